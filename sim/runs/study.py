"""Studies: a sweep of runs collected into two tables, and what the sweep's workers need.

A study is every run below ``results/<study>/`` (``<policy>/<config hash>/``, see ``sim.runs.io``);
it is usually written by one experiment (``cxsim-run -m experiment=<name>``, one file per
study in configs/experiment/). ``collect`` reads the complete runs only (``sim.runs.io.scan_runs``:
a half-written or interrupted run directory has no complete manifest and is never read),
refuses a study with a damaged run (``sim.runs.io.RunDamaged``: a file that is not the one
its manifest records; ``StudyDamaged``, one line) and writes, readable with plain pandas or
polars:

- ``runs.parquet``: one row per run: ``run`` (the config hash), ``run_dir`` (relative to the
  study), ``scenario``, ``policy``, ``seed``, every model parameter as a dotted column
  (``policy.price_change``, ``population.size``, ...), then the summary numbers (churn by
  reason as ``churned_<reason>``, retention by products as ``retention_annual_<k>_products``
  and over the last year as ``retention_annual_last_year_<k>_products``; profit by year
  ``profit_year1``, ``profit_year2``, ...; ``npv_profit``, ``future_value`` and
  ``customer_equity``: ``sim.core.recorder.Recorder.summary``);
- ``daily.parquet``: one row per run and day: ``run``, ``scenario``, ``policy``, ``seed`` and
  every daily metric of ``sim.core.metrics.DAILY_COLUMNS``;
- ``study.json``: the experiment, the question it answers, the baseline of the paired
  differences, and the swept parameters.

A parameter is *swept* when it varies between runs and is not fixed by the policy's name (a
``policy.*`` value that differs only between policies belongs to the policy, not the sweep).
A *scenario* is one combination of policy and swept values; its runs differ only by seed, and
runs of two scenarios with the same seed are paired (common random numbers).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hydra.experimental.callback import Callback
from tqdm import tqdm

from sim.runs import io as sim_io
from sim.core.metrics import REASONS

RUNS = "runs.parquet"
DAILY = "daily.parquet"
STUDY = "study.json"
ID_COLUMNS = ("run", "run_dir", "scenario", "policy", "seed")
DEFAULT_BASELINE = {"policy": "baseline"}


class StudyDamaged(Exception):
    """A study that cannot be collected because a run (or ``study.json``) is damaged;
    ``str()`` is one line naming the directory, the file and what is wrong."""


# -- workers ----------------------------------------------------------------------------------
def threads_per_worker(n_jobs: int | None, cores: int | None = None) -> int:
    """Numba threads for each of ``n_jobs`` parallel workers so that together they use the
    cores once: ``max(1, cores // workers)`` (joblib's ``n_jobs=-1`` means one per core)."""
    cores = cores or os.cpu_count() or 1
    workers = cores if n_jobs is None or n_jobs < 0 else max(1, n_jobs)
    return max(1, cores // min(workers, cores))


def launcher_threads(launcher: Mapping[str, Any] | None, cores: int | None = None) -> int:
    """Numba threads for one job of a sweep run by ``launcher`` (the ``hydra.launcher``
    config): a Ray task (hydra-ray-launcher) uses the cores Ray reserves for it,
    ``ray.remote.num_cpus`` (Ray's default: one); a submitit job (Slurm or local) its
    ``cpus_per_task`` (unset: one, Slurm's default); any other launcher its share of this
    machine's cores, ``threads_per_worker(n_jobs)`` (joblib's ``n_jobs``; the basic
    launcher runs one job at a time). Never below one."""
    launcher = launcher or {}
    ray = launcher.get("ray")
    if ray is not None and "remote" in ray:  # hydra-ray-launcher: ray.init, ray.remote
        return max(1, int((ray.get("remote") or {}).get("num_cpus") or 1))
    if "cpus_per_task" in launcher:          # hydra-submitit-launcher
        return max(1, int(launcher.get("cpus_per_task") or 1))
    return threads_per_worker(launcher.get("n_jobs", 1), cores)


def set_worker_threads(launcher: Mapping[str, Any] | None) -> int:
    """Set numba's threads in this process (one job of a sweep run by ``launcher``, see
    ``launcher_threads``); returns the number set. Never more than numba's own limit
    (``NUMBA_NUM_THREADS``, by default the machine's cores)."""
    import numba
    threads = min(launcher_threads(launcher), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    return threads


# -- the experiment's question ----------------------------------------------------------------
def experiment_question(path: Path) -> str:
    """The header comment of an experiment file, up to its first blank comment line, as one
    paragraph (without the file's name prefix ``<name>:``)."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#") or line.startswith("# @package"):
            if lines or not line.startswith("# @package"):
                break
            continue
        text = line.lstrip("#").strip()
        if not text:
            break
        lines.append(text)
    question = " ".join(lines)
    prefix = f"{path.stem}:"
    return question[len(prefix):].strip() if question.startswith(prefix) else question


def write_study_info(study_dir: Path | str, experiment: str | None, question: str | None,
                     baseline: Mapping[str, Any],
                     comparisons: Sequence[Sequence[str]] = ()) -> None:
    sim_io.write_json(Path(study_dir) / STUDY, {
        "experiment": experiment, "question": question, "baseline": dict(baseline),
        "comparisons": [list(c) for c in comparisons]})


def read_study_info(study_dir: Path | str) -> dict:
    """``study.json`` if the study has one, else the defaults (baseline: the baseline policy)."""
    path = Path(study_dir) / STUDY
    try:
        info = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError) as err:  # written whole (os.replace): damaged afterwards
        raise StudyDamaged(f"{path}: unreadable ({err})") from err
    if not isinstance(info, dict):
        raise StudyDamaged(f"{path}: unreadable (not a JSON object)")
    info.setdefault("experiment", None)
    info.setdefault("question", None)
    info.setdefault("comparisons", [])
    info["baseline"] = info.get("baseline") or dict(DEFAULT_BASELINE)
    return info


# -- collection -------------------------------------------------------------------------------
def flat_params(params: Mapping, prefix: str = "") -> dict[str, Any]:
    """Nested parameters as ``{"policy.price_change": 0.6, ...}``; a list stays a list (one
    list per cell: a Parquet list column, ``population.product_mix``)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out.update(flat_params(value, f"{prefix}{key}."))
        elif isinstance(value, (list, tuple)):
            out[f"{prefix}{key}"] = list(value)
        else:
            out[f"{prefix}{key}"] = value
    return out


def _comparable(column: pd.Series) -> pd.Series:
    """A column whose lists are tuples, so that its values can be counted and grouped."""
    return column.map(lambda v: tuple(v) if isinstance(v, (list, np.ndarray)) else v)


def summary_numbers(summary: Mapping) -> dict[str, Any]:
    """The summary's numbers as flat columns (its nested tables spread out by name)."""
    out = {k: v for k, v in summary.items()
           if not isinstance(v, Mapping) and k not in ("policy", "seed")}
    out.update({f"churned_{r}": summary["churn_by_reason"][r] for r in REASONS})
    out.update({f"retention_annual_{k}_products": v
                for k, v in summary["retention_annual_by_products"].items()})
    out.update({f"retention_annual_last_year_{k}_products": v
                for k, v in summary.get("retention_annual_last_year_by_products", {}).items()})
    return out


def swept_parameters(params: pd.DataFrame) -> list[str]:
    """The parameters that vary between runs other than the seed, leaving out ``policy.*``
    values that only follow the policy's name (constant within every policy)."""
    swept = []
    for col in params.columns:
        values = _comparable(params[col])
        if col in ("seed", "policy.name") or values.nunique(dropna=False) < 2:
            continue
        if col.startswith("policy.") and \
                (values.groupby(params["policy.name"]).nunique(dropna=False) < 2).all():
            continue
        swept.append(col)
    return swept


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def scenario_label(policy: str, values: Mapping[str, Any]) -> str:
    """``policy`` then ``name=value`` for each swept parameter (by its last dotted part)."""
    return " ".join([policy, *(f"{k.rsplit('.', 1)[-1]}={_short(v)}" for k, v in values.items())])


def collect(study_dir: Path | str, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``runs.parquet`` and ``daily.parquet`` of every complete run below
    ``study_dir`` made by the model code of the most recently finished run, and return them;
    runs of other code are left out, and counted on stderr and in the study info
    (``study.json``), which also gets the swept parameters. Raises FileNotFoundError when
    there is no complete run, ``StudyDamaged`` when a run is damaged (``sim.runs.io.verify_run``:
    a file missing, unreadable or not the one its manifest records). The tables of an earlier
    collection are removed first, so a failed collection never leaves tables that look
    current."""
    study_dir = Path(study_dir)
    for name in (RUNS, DAILY):
        (study_dir / name).unlink(missing_ok=True)
    found, damaged = sim_io.scan_runs(study_dir)
    if damaged:
        more = f" (and {len(damaged) - 1} more damaged run(s))" if len(damaged) > 1 else ""
        raise StudyDamaged(f"{damaged[0]}{more}; re-running its sweep makes it again")
    if not found:
        raise FileNotFoundError(f"{study_dir}: no complete run (a run directory is complete "
                                f"once its {sim_io.MANIFEST} says so)")
    run_dirs = [d for d, _ in found]
    manifests = [m for _, m in found]
    code = max(manifests, key=lambda m: m.get("finished_utc", "")).get("model_code")
    kept = [(d, m) for d, m in zip(run_dirs, manifests) if m.get("model_code") == code]
    left_out = len(run_dirs) - len(kept)
    if left_out:
        print(f"collect: {study_dir}: left out {left_out} run(s) made by other versions of "
              f"the model's code; kept the {len(kept)} made by the newest (model code "
              f"{code}). Move the others to another directory to report them.",
              file=sys.stderr)
    params, summaries, daily = [], [], []
    for run_dir, manifest in tqdm(kept, desc=f"collecting {study_dir.name}", unit="run",
                                  file=sys.stderr,  # disable=None: off when not a terminal
                                  disable=None if progress and len(kept) >= 20 else True):
        try:  # verified just now; unreadable only if changed since
            summary, ts = sim_io.read_summary(run_dir), sim_io.read_timeseries(run_dir)
        except (OSError, ValueError, pa.ArrowException) as err:
            raise StudyDamaged(f"{run_dir}: unreadable ({err})") from err
        params.append(flat_params(manifest["params"]))
        summaries.append({"run": manifest["config_hash"],
                          "run_dir": run_dir.relative_to(study_dir).as_posix(),
                          **summary_numbers(summary)})
        daily.append(ts.append_column("run", pa.array([manifest["config_hash"]] * ts.num_rows)))
    p = pd.DataFrame(params)
    swept = swept_parameters(p)
    scenario = [scenario_label(row["policy.name"], {k: row[k] for k in swept})
                for _, row in p.iterrows()]
    s = pd.DataFrame(summaries)
    runs = pd.concat([s[["run", "run_dir"]],
                      pd.DataFrame({"scenario": scenario, "policy": p["policy.name"],
                                    "seed": p["seed"].astype("int64")}),
                      p.drop(columns=["policy.name", "seed"]),
                      s.drop(columns=["run", "run_dir"])], axis=1)
    daily_table = pa.concat_tables(daily).replace_schema_metadata(None)
    labels = dict(zip(runs.run, runs.scenario))
    daily_df = daily_table.to_pandas()
    daily_df.insert(0, "scenario", daily_df["run"].map(labels))
    first = ["run", "scenario", "policy", "seed"]
    daily_df = daily_df[first + [c for c in daily_df.columns if c not in first]]
    meta = {b"cxsim.swept": json.dumps(swept).encode()}
    sim_io.write_parquet(study_dir / RUNS, pa.Table.from_pandas(runs, preserve_index=False)
                         .replace_schema_metadata(meta))
    sim_io.write_parquet(study_dir / DAILY, pa.Table.from_pandas(daily_df, preserve_index=False)
                         .replace_schema_metadata(meta))
    info = read_study_info(study_dir)
    sim_io.write_json(study_dir / STUDY, {**info, "swept": swept, "model_code": code,
                                          "runs_left_out": left_out})
    return runs, daily_df


def read_swept(study_dir: Path | str) -> list[str]:
    """The swept parameters recorded in ``runs.parquet``."""
    meta = pq.read_schema(Path(study_dir) / RUNS).metadata or {}
    return json.loads(meta.get(b"cxsim.swept", b"[]"))


# -- the end of a multirun --------------------------------------------------------------------
class CollectStudy(Callback):
    """Hydra callback (configs/config.yaml, ``hydra.callbacks``): at the end of a multirun,
    record the experiment and its baseline in ``study.json`` and collect the study; when it
    cannot be collected (a damaged run), one line on stderr and exit status 1."""

    def on_multirun_end(self, config, **kwargs) -> None:
        from sim.runs.config import experiment_files
        study_dir = Path(config.hydra.sweep.dir)
        experiment = config.hydra.runtime.choices.get("experiment")
        path = experiment_files().get(experiment) if experiment else None
        try:
            write_study_info(study_dir, experiment, path and experiment_question(path),
                             dict(config.baseline), [list(c) for c in config.comparisons])
            runs, _ = collect(study_dir)
        except (StudyDamaged, FileNotFoundError, OSError) as err:
            # Hydra turns a callback's exception into a warning and exits 0; a sweep whose
            # study is not collected must fail (SystemExit passes through Hydra)
            print(f"cxsim-run: study {study_dir} not collected: {err}", file=sys.stderr)
            raise SystemExit(1) from err
        print(f"cxsim-run: collected {len(runs)} runs into {study_dir / RUNS} and "
              f"{study_dir / DAILY}", file=sys.stderr)
