"""The model, and nothing of Hydra or files: parameters, state layout, random streams, the
numba kernels and their readable reference, the Mesa model and agents, and what a run
records. Everything that decides a run's results lives here (its fingerprint,
``sim.core.fingerprint.MODEL_CODE``, names the code in every run directory)."""

import sys as _sys

from sim.core.fingerprint import cache_dir as _cache_dir
from sim.core.fingerprint import prune_caches as _prune_caches

# numba caches the kernels per model-code fingerprint (sim.core.fingerprint): set before
# any kernel of sim.core is compiled or loaded
_numba = _sys.modules.get("numba")
_folder = _cache_dir(_numba.config.CACHE_DIR or None if _numba else None)
if _numba:
    _numba.config.CACHE_DIR = str(_folder)
else:
    import os as _os
    _os.environ["NUMBA_CACHE_DIR"] = str(_folder)
_prune_caches(_folder)
