"""Warm starts on disk, shared by the processes of a sweep (``sim.core.warm`` keeps them
in one process's memory).

A study runs every policy on the same seeds; each run's warm start depends on neither its
policy nor its horizon (``sim.core.warm.key``), so the first run of a seed simulates it and
every other run of that seed, in any worker process, reads it back. The files live beside
numba's cache of the same model code (``sim.core.fingerprint.cache_dir``, which importing
``sim.core`` makes numba's cache folder), so they go when
the code changes; each is written whole or not at all (a temporary file, then a rename), and
one that cannot be read is simulated afresh.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numba
import numpy as np

from sim.core import warm

# the largest state written to disk (about 250,000 customer slots: bigger runs are few, and
# their warm start is a small part of their time), and the most the folder keeps (the
# oldest files go first). Neither changes a result.
DISK_STATE_BYTES = 64 * 2**20
DISK_FOLDER_BYTES = 1024 * 2**20


class DiskWarmStarts(warm.WarmStarts):
    """``sim.core.warm.WarmStarts`` (in memory) that also reads and writes
    ``<folder>/<key>.npz``."""

    def __init__(self, folder: Path | str | None = None) -> None:
        super().__init__()
        self.folder = Path(folder) if folder is not None else Path(numba.config.CACHE_DIR) / "warm"

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        state = super().get(key)
        if state is not None:
            return state
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                state = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # damaged: simulate it again
            path.unlink(missing_ok=True)
            return None
        super().put(key, state)
        return state

    def put(self, key: str, state: dict[str, np.ndarray]) -> None:
        super().put(key, state)
        if warm.nbytes(state) > DISK_STATE_BYTES:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    np.savez(out, **state)
                os.replace(tmp, self._path(key))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            self._prune()
        except OSError:  # a full or read-only disk costs time, never a run
            pass

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.npz"), key=lambda f: f.stat().st_mtime)
        total = sum(f.stat().st_size for f in files)
        for f in files[:-1]:
            if total <= DISK_FOLDER_BYTES:
                break
            total -= f.stat().st_size
            f.unlink(missing_ok=True)

    def clear(self) -> None:
        super().clear()
        for f in self.folder.glob("*.npz"):
            f.unlink(missing_ok=True)


STORE = DiskWarmStarts()  # what cxsim-run and cxsim-validate use
