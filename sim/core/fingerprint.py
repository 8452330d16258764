"""The model code's fingerprint, and numba's cache kept per fingerprint.

``MODEL_CODE`` is a short SHA-256 of every ``.py`` file below ``sim/core`` (by path and
content): all that decides a run's results. Run directories carry it (``sim.runs.io``), so
runs made by different model code never share a directory.

numba's on-disk cache checks only the file of a cached function: a kernel that inlines a
helper from another module, or reads a constant of ``sim.core.layout``, would keep its stale
compiled code after that module changed. So the kernels cache into a folder of their own
per fingerprint (``cache_dir``), and any change to the model's code compiles afresh.
Only the standard library is imported here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

CORE = Path(__file__).resolve().parent
HASH_CHARS = 12


def code_fingerprint(package: Path = CORE) -> str:
    """Short SHA-256 of the ``.py`` files below ``package`` (by relative path and content)."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:HASH_CHARS]


MODEL_CODE = code_fingerprint()


def cache_dir(base: str | None = None) -> Path:
    """numba's cache folder for this model code: ``<base>/cxsim-<MODEL_CODE>``, where base
    is ``NUMBA_CACHE_DIR`` if set, else ``sim/core/__pycache__`` if writable, else
    ``~/.cache/cxsim``. A base that is already such a folder (a worker process inherits
    its parent's setting) is taken as its parent."""
    if base is None:
        base = os.environ.get("NUMBA_CACHE_DIR") or (
            str(CORE / "__pycache__") if os.access(CORE, os.W_OK) else
            str(Path.home() / ".cache" / "cxsim"))
    folder = Path(base)
    if folder.name.startswith("cxsim-"):
        folder = folder.parent
    return folder / f"cxsim-{MODEL_CODE}"


def prune_caches(keep: Path, older_than_s: float = 3600.0) -> None:
    """Remove the numba caches of other model code beside ``keep`` (``cxsim-*`` folders
    untouched for ``older_than_s``: a process of older code may still be starting up)."""
    try:
        for folder in keep.parent.glob("cxsim-*"):
            if folder != keep and time.time() - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        pass
