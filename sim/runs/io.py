"""Run directories: writing one run's results atomically, and reading them back.

A run directory holds (besides Hydra's ``.hydra/`` when written by ``cxsim-run``):

- ``timeseries.parquet``: one row per day, every column of ``sim.core.metrics.DAILY_COLUMNS``,
  then ``policy`` and ``seed``;
- ``journeys.parquet``: the sampled customers' events (``JOURNEY_SCHEMA``);
- ``sampled.parquet``: those customers' products held at the start (``SAMPLED_SCHEMA``), so a
  report can tell the multi-product customer's story;
- ``holds.parquet``: calls that held, by whole minutes on hold (``HOLDS_SCHEMA``; only the
  minutes with calls; the last minute, a week, counts a week or more);
- ``summary.json``: the model's summary;
- ``manifest.json``: seed, config hash, the model code's fingerprint, parameters, package
  versions, git revision, wall time, numba threads, every result file's size and SHA-256
  (``files``) and ``"status": "complete"``, written last.

Every file is written under a temporary name in the same directory and moved into place with
``os.replace``, so a reader never sees half a file; a directory whose manifest is missing or
not complete is never treated as finished (``is_complete``). A finished run is trusted only
while its files are the ones its manifest records (``verify_run``): a file damaged or
replaced afterwards (cut short, emptied, another run's copied in, deleted) makes the run
``RunDamaged``, with one line naming the directory, the file and what is wrong, and a re-run
makes it again. Nothing here imports Hydra or the model: the inputs are parameters and the
model's output arrays.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import subprocess
import tempfile
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.core.fingerprint import HASH_CHARS, MODEL_CODE, code_fingerprint  # noqa: F401
from sim.core.metrics import DAILY_COLUMNS
from sim.core.params import SimParams, to_dict

MANIFEST = "manifest.json"
TIMESERIES = "timeseries.parquet"
JOURNEYS = "journeys.parquet"
SAMPLED = "sampled.parquet"
HOLDS = "holds.parquet"
SUMMARY = "summary.json"
RUN_FILES = (TIMESERIES, JOURNEYS, SAMPLED, HOLDS, SUMMARY)
COMPLETE = "complete"
JOURNEY_SCHEMA = pa.schema([("customer", pa.int64()), ("day", pa.int32()),
                            ("event", pa.string()), ("value", pa.float64())])
SAMPLED_SCHEMA = pa.schema([("customer", pa.int64()), ("products", pa.int8())])
HOLDS_SCHEMA = pa.schema([("minutes", pa.int32()), ("calls", pa.int64())])
PACKAGES = ("cxsim", "numpy", "numba", "mesa", "hydra-core", "omegaconf", "pyarrow")


# -- identity of a run ----------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _type_hints(cls: type) -> dict:
    return typing.get_type_hints(cls)


def _canonical(obj: Any) -> Any:
    """Parameters as plain JSON values, floats as floats even when written as integers
    (``premium_per_product=1000`` and ``1000.0`` are the same configuration)."""
    hints = _type_hints(type(obj))
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = _canonical(value)
        elif hints[f.name] is float and not isinstance(value, bool):
            out[f.name] = float(value)
        elif isinstance(value, (list, tuple)):
            out[f.name] = [float(x) for x in value]
        else:
            out[f.name] = value
    return out


def config_hash(params: SimParams, model_code: str | None = None) -> str:
    """Short SHA-256 of every parameter, the seed and the model's code (``MODEL_CODE``):
    the name of the run directory, so the same configuration run by the same code always
    lands in the same place (and a finished one can be skipped), and a run made before the
    code changed is never taken for one of today's."""
    text = json.dumps({"params": _canonical(params), "model_code": model_code or MODEL_CODE},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


# -- writing --------------------------------------------------------------------------------
def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same directory, then ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null (strict JSON); numpy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: Mapping) -> None:
    write_text(path, json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    _atomic(path, lambda tmp: tmp.write_text(text))


def write_parquet(path: Path, table: pa.Table) -> None:
    _atomic(path, lambda tmp: pq.write_table(table, tmp))


def file_record(path: Path | str) -> dict[str, Any]:
    """A file's size and SHA-256, as the manifest records them (about 0.2 ms for a
    10,000-customer three-year run's files)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _scenario_columns(n: int, params: SimParams) -> dict[str, pa.Array]:
    """``policy`` and ``seed`` on every row, so a table found alone still names its run."""
    return {"policy": pa.array([params.policy.name] * n, pa.string()),
            "seed": pa.array(np.full(n, params.seed, np.int64))}


def _metadata(params: SimParams) -> dict[bytes, bytes]:
    return {b"cxsim.config_hash": config_hash(params).encode(),
            b"cxsim.params": json.dumps(to_dict(params), sort_keys=True).encode()}


def timeseries_table(params: SimParams, timeseries: Mapping[str, np.ndarray]) -> pa.Table:
    if tuple(timeseries) != DAILY_COLUMNS:
        raise ValueError(f"timeseries columns {tuple(timeseries)} differ from "
                         f"sim.core.metrics.DAILY_COLUMNS {DAILY_COLUMNS}")
    n = len(timeseries["day"])
    if any(len(v) != n for v in timeseries.values()):
        raise ValueError("timeseries columns differ in length")
    columns = {c: pa.array(np.asarray(timeseries[c])) for c in DAILY_COLUMNS}
    columns.update(_scenario_columns(n, params))
    return pa.table(columns)


def journeys_table(params: SimParams, journeys: Mapping[str, np.ndarray]) -> pa.Table:
    if set(journeys) != set(JOURNEY_SCHEMA.names):
        raise ValueError(f"journey columns {sorted(journeys)} differ from "
                         f"{sorted(JOURNEY_SCHEMA.names)}")
    columns = {f.name: pa.array(list(journeys[f.name]) if f.type == pa.string()
                                else np.asarray(journeys[f.name]), f.type)
               for f in JOURNEY_SCHEMA}
    columns.update(_scenario_columns(len(journeys["day"]), params))
    return pa.table(columns)


def sampled_table(params: SimParams, sampled: Mapping[str, np.ndarray]) -> pa.Table:
    """The journey-sampled customers and the products each held at the start."""
    columns = {f.name: pa.array(np.asarray(sampled[f.name]), f.type) for f in SAMPLED_SCHEMA}
    columns.update(_scenario_columns(len(columns["customer"]), params))
    return pa.table(columns)


def holds_table(params: SimParams, hold_histogram: np.ndarray) -> pa.Table:
    """The hold-time histogram (calls by whole minutes on hold), its non-empty minutes only."""
    hist = np.asarray(hold_histogram)
    if hist.ndim != 1 or (hist < 0).any():
        raise ValueError("hold histogram must be one non-negative count per minute")
    minutes = np.flatnonzero(hist)
    columns = {"minutes": pa.array(minutes, pa.int32()),
               "calls": pa.array(hist[minutes], pa.int64())}
    columns.update(_scenario_columns(minutes.size, params))
    return pa.table(columns)


def package_versions() -> dict[str, str | None]:
    return dict(_package_versions())


@functools.lru_cache(maxsize=1)
def _package_versions() -> dict[str, str | None]:
    """Once per process: the installed versions do not change under a running program (a
    sweep worker writes hundreds of manifests)."""
    versions: dict[str, str | None] = {}
    for dist in PACKAGES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # cxsim run from a checkout, not installed
            versions[dist] = __version__ if dist == "cxsim" else None
    return versions


def numba_threads() -> int:
    """The numba threads this process runs the kernels on (results do not depend on it)."""
    import numba
    return numba.get_num_threads()


def git_revision(where: Path = Path(__file__).resolve().parent) -> dict | None:
    """The source checkout's commit and whether tracked files differ from it; None when the
    code does not run from a git checkout (or git is missing). Asked once per process and
    directory (two git commands: a hundredth of a second a run): the code a process runs
    is the code it imported."""
    found = _git_revision(Path(where))
    return None if found is None else dict(found)


@functools.lru_cache(maxsize=8)
def _git_revision(where: Path) -> dict | None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        return {"revision": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


def write_run(run_dir: Path | str, params: SimParams, timeseries: Mapping[str, np.ndarray],
              summary: Mapping, journeys: Mapping[str, np.ndarray],
              sampled: Mapping[str, np.ndarray], hold_histogram: np.ndarray,
              wall_seconds: float) -> Path:
    """Write one run's results into ``run_dir`` (created if needed); the manifest last.

    The outputs are checked against the contract (``sim.core.metrics``, ``JOURNEY_SCHEMA``) before
    anything is touched; then an existing manifest is removed, so a directory being rewritten
    is never taken for a finished run, and so are the temporary files of a writer that was
    killed (SIGKILL leaves no chance to remove them).
    """
    run_dir = Path(run_dir)
    meta = _metadata(params)  # every table's (config hash and parameters), made once
    tables = {name: table.replace_schema_metadata(meta) for name, table in (
        (TIMESERIES, timeseries_table(params, timeseries)),
        (JOURNEYS, journeys_table(params, journeys)),
        (SAMPLED, sampled_table(params, sampled)),
        (HOLDS, holds_table(params, hold_histogram)))}
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / MANIFEST).unlink(missing_ok=True)
    for name in (*RUN_FILES, MANIFEST):  # left by a writer killed mid-file (see _atomic)
        for stale in run_dir.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)
    for name, table in tables.items():
        write_parquet(run_dir / name, table)
    write_json(run_dir / SUMMARY, summary)
    files = {name: file_record(run_dir / name) for name in RUN_FILES}
    write_json(run_dir / MANIFEST, {
        "policy": params.policy.name,
        "seed": params.seed,
        "config_hash": meta[b"cxsim.config_hash"].decode(),
        "model_code": MODEL_CODE,
        "params": to_dict(params),
        "versions": package_versions(),
        "git": git_revision(),
        "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        "numba_threads": numba_threads(),
        "files": files,
        "status": COMPLETE,
    })
    return run_dir


def check_writable(directory: Path | str) -> None:
    """Create ``directory`` if needed and write a probe file there; raises OSError if not."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory):
        pass


# -- reading --------------------------------------------------------------------------------
class RunIncomplete(Exception):
    """A run directory that is not a verified finished run. ``str()`` is one line:
    ``<run dir>: <file>: <what is wrong>``."""

    def __init__(self, run_dir: Path | str, name: str, what: str) -> None:
        self.run_dir, self.name, self.what = Path(run_dir), name, what
        super().__init__(f"{run_dir}: {name}: {what}")


class RunUnfinished(RunIncomplete):
    """No manifest, or one that does not say complete: a run not yet written, in progress
    or killed while being written (never read, made again on resume)."""


class RunDamaged(RunIncomplete):
    """A finished run whose manifest or result file is missing, unreadable or not the one
    the manifest records (size or checksum), or a manifest without checksums (written by an
    earlier cxsim, so its files cannot be told from damaged ones)."""


def read_manifest(run_dir: Path | str) -> dict:
    return json.loads((Path(run_dir) / MANIFEST).read_text())


def _owner(path: Path) -> str | None:
    """The config hash a Parquet file of ours names in its metadata, if it can be read."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, ValueError, pa.ArrowException):
        return None
    owner = meta.get(b"cxsim.config_hash")
    return owner.decode(errors="replace") if owner else None


def _mismatch(run_dir: Path, name: str, manifest: Mapping, found: Mapping) -> str:
    """What is wrong with a file whose size or checksum differs from the manifest's,
    naming the run it belongs to when it is another run's file."""
    recorded = manifest["files"][name]
    if found["bytes"] != recorded["bytes"]:
        what = (f"size mismatch ({found['bytes']:,} bytes; the manifest says "
                f"{recorded['bytes']:,})")
    else:
        what = "checksum mismatch (sha256 differs from the manifest's)"
    owner = _owner(run_dir / name) if name.endswith(".parquet") else None
    if owner and owner != manifest.get("config_hash"):
        what += f"; it is run {owner}'s file"
    return what


def verify_run(run_dir: Path | str) -> dict:
    """The manifest of a finished run whose every result file is the one its manifest
    records (size and SHA-256); else raises ``RunUnfinished`` (no complete manifest) or
    ``RunDamaged`` (one line: the directory, the file, what is wrong)."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        raise RunUnfinished(run_dir, MANIFEST, "missing (not finished)")
    try:
        manifest = read_manifest(run_dir)
    except (OSError, ValueError) as err:
        # the manifest is written whole (os.replace): one that cannot be read was damaged
        raise RunDamaged(run_dir, MANIFEST, f"unreadable ({err})") from err
    if not isinstance(manifest, dict):
        raise RunDamaged(run_dir, MANIFEST, "unreadable (not a JSON object)")
    if manifest.get("status") != COMPLETE:
        raise RunUnfinished(run_dir, MANIFEST, f"status {manifest.get('status')!r}, not "
                                               f"{COMPLETE!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(files.get(n), dict) and {"bytes", "sha256"} <= set(files[n])
            for n in RUN_FILES):
        raise RunDamaged(run_dir, MANIFEST, "no checksums of the result files (written by "
                                            "an earlier cxsim)")
    for name in RUN_FILES:
        try:
            found = file_record(run_dir / name)
        except FileNotFoundError as err:
            raise RunDamaged(run_dir, name, "missing") from err
        except OSError as err:
            raise RunDamaged(run_dir, name, f"unreadable ({err.strerror or err})") from err
        if found != {k: files[name][k] for k in ("bytes", "sha256")}:
            raise RunDamaged(run_dir, name, _mismatch(run_dir, name, manifest, found))
    return manifest


def run_problem(run_dir: Path | str) -> RunIncomplete | None:
    """None for a verified finished run, else why it is not one (``verify_run``)."""
    try:
        verify_run(run_dir)
    except RunIncomplete as err:
        return err
    return None


def is_complete(run_dir: Path | str) -> bool:
    """True only if the manifest says complete and every result file is there, with the
    size and checksum the manifest records (``verify_run``)."""
    return run_problem(run_dir) is None


def scan_runs(root: Path | str) -> tuple[list[tuple[Path, dict]], list[RunDamaged]]:
    """Every run directory below ``root`` (one with a manifest), sorted: the verified
    finished ones with their manifests, and the damaged ones (unfinished runs are neither)."""
    complete, damaged = [], []
    for run_dir in sorted(p.parent for p in Path(root).rglob(MANIFEST)):
        try:
            complete.append((run_dir, verify_run(run_dir)))
        except RunDamaged as err:
            damaged.append(err)
        except RunUnfinished:
            pass
    return complete, damaged


def complete_runs(root: Path | str) -> list[Path]:
    """Every verified finished run directory below ``root`` (e.g. ``results/<study>``),
    sorted."""
    return [run_dir for run_dir, _ in scan_runs(root)[0]]


def read_summary(run_dir: Path | str) -> dict:
    return json.loads((Path(run_dir) / SUMMARY).read_text())


def read_timeseries(run_dir: Path | str) -> pa.Table:
    return pq.read_table(Path(run_dir) / TIMESERIES)


def read_journeys(run_dir: Path | str) -> pa.Table:
    return pq.read_table(Path(run_dir) / JOURNEYS)


def read_sampled(run_dir: Path | str) -> pa.Table:
    return pq.read_table(Path(run_dir) / SAMPLED)


def read_holds(run_dir: Path | str) -> pa.Table:
    return pq.read_table(Path(run_dir) / HOLDS)
