"""The model, and nothing of Hydra or files: parameters, state layout, random streams, the
numba kernels and their readable reference, the Mesa model and agents, and what a run
records. Everything that decides a run's results lives here (its fingerprint,
``sim.core.fingerprint.MODEL_CODE``, names the code in every run directory)."""

import sys as _sys

from sim.core.fingerprint import cache_dir as _cache_dir
from sim.core.fingerprint import prune_caches as _prune_caches

# numba caches the kernels per model-code fingerprint (sim.core.fingerprint): set before
# any kernel of sim.core is compiled or loaded
if "numba" in _sys.modules:
    _numba_config = _sys.modules["numba"].config
    _numba_config.CACHE_DIR = str(_cache_dir(_numba_config.CACHE_DIR or None))
    _prune_caches(_cache_dir(_numba_config.CACHE_DIR))
else:
    import os as _os
    _os.environ["NUMBA_CACHE_DIR"] = str(_cache_dir())
    _prune_caches(_cache_dir())
