"""``cxsim-run``: one simulation (or a Hydra ``--multirun`` sweep) from the configs.

    cxsim-run policy=silent_hike population.size=20000 seed=3
    cxsim-run -m policy=baseline,silent_hike seed=0,1,2 study=hike
    cxsim-run -m experiment=premium_hike                  # a study: configs/experiment/premium_hike.yaml
    cxsim-run -m hydra/launcher=joblib seed='range(20)'   # parallel: one worker per core

Each run writes ``<results_dir>/<study>/<policy>/<config hash>/`` (see ``sim.runs.io``); a multirun
ends by collecting its study (``sim.runs.study``: ``runs.parquet``, ``daily.parquet``). A sweep
worker sets numba's threads so that the workers together use each core once. The
command line is composed and validated in full before Hydra starts (``sim.runs.config.compose_jobs``),
so an unknown key, a wrong type, a value out of range, a missing policy, a key given twice,
a config file that is not valid YAML or an output directory that cannot be written stops
everything with one line on stderr and exit status 2 (set ``HYDRA_FULL_ERROR=1`` for the traceback).
A run whose directory is already complete (its files those its manifest records) is skipped
unless ``force=true``; a damaged one is named in one line and run again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import hydra
import numpy as np
import yaml
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from sim.runs.config import (CONFIG_DIR, CONFIG_NAME, VERSION_BASE, _given, compose_jobs,
                             error_line, params_from_cfg)
from sim.runs.io import RunDamaged, check_writable, read_summary, run_problem, write_run
from sim.core.model import LoyaltyModel
from sim.core.params import ParamError, SimParams
from sim.runs.study import set_worker_threads

PROG = "cxsim-run"
EXIT_CONFIG, EXIT_RUN = 2, 1


def sampled_customers(model: LoyaltyModel) -> dict[str, np.ndarray]:
    """The journey-sampled customers and the products each holds now (call before the run:
    a leaver's products are gone)."""
    ids = np.asarray(model.journey_idx, np.int64)
    return {"customer": ids,
            "products": np.array([model.customers[i].products for i in ids], np.int8)}


def model_outputs(model: LoyaltyModel, sampled: dict[str, np.ndarray]) -> dict:
    """The keyword arguments of ``sim.runs.io.write_run`` that come from a finished model."""
    return {"timeseries": model.timeseries(), "summary": model.summary(),
            "journeys": model.journeys(), "sampled": sampled,
            "hold_histogram": model.hold_distribution()}


def run(params: SimParams, run_dir: Path | str, progress: bool = False) -> Path:
    """Simulate one configuration and write its run directory (``sim.runs.io.write_run``)."""
    started = time.perf_counter()
    model = LoyaltyModel(params)
    sampled = sampled_customers(model)
    with tqdm(total=params.horizon_days, unit="day", file=sys.stderr, leave=False,
              desc=f"{params.policy.name} seed {params.seed}", disable=not progress) as bar:
        model.run(progress=(lambda done, total: bar.update(done - bar.n)) if progress else None)
    return write_run(run_dir, params, **model_outputs(model, sampled),
                     wall_seconds=time.perf_counter() - started)


def _fail(err: BaseException, line: str, code: int) -> None:
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise err
    print(f"{PROG}: {line}", file=sys.stderr)
    raise SystemExit(code)


def prints_only(args) -> bool:
    """Hydra's flags (parsed ``args``) that print and compose no job: --help, --hydra-help,
    --info, --shell-completion."""
    return bool(args.help or args.hydra_help or args.info or args.shell_completion)


def check(argv: Sequence[str]) -> list[DictConfig]:
    """Compose and validate every job of a command line and make sure its results can be
    written; on a mistake print one line on stderr and exit with status 2. Returns the jobs'
    configs (none for ``--help`` and the like)."""
    args = get_args_parser().parse_args(list(argv))
    if prints_only(args) or args.experimental_rerun:
        return []
    try:
        if args.config_path is not None:
            raise ParamError(f"--config-path={args.config_path}: not supported; add a config "
                             "directory with --config-dir (-cd)")
        if args.config_dir is not None and not Path(args.config_dir).is_dir():
            raise ParamError(f"--config-dir={args.config_dir}: no such directory")
        cfgs = compose_jobs(args.overrides, multirun=args.multirun,
                            config_name=args.config_name or CONFIG_NAME,
                            config_dir=args.config_dir)
        if args.cfg is not None:  # only printing the config
            return cfgs
        outputs = {str(c.hydra.sweep.dir if args.multirun else c.hydra.run.dir): c
                   for c in cfgs}
        # the key the output directory comes from: Hydra's own, if given, else results_dir
        # (study and policy.name are checked names, see sim.runs.config.check_name)
        dir_key = "hydra.sweep.dir" if args.multirun else "hydra.run.dir"
        given = _given(args.overrides)
        for out, cfg in outputs.items():
            try:
                check_writable(out)
            except OSError as err:
                shown = f"{dir_key}={given[dir_key]}" if dir_key in given \
                    else f"results_dir={cfg.results_dir}"
                raise ParamError(f"{shown}: cannot write {out} ({err.strerror or err}); must "
                                 "be a directory that can be created and written") from err
    except (HydraException, OmegaConfBaseException, ParamError, yaml.YAMLError) as err:
        _fail(err, error_line(err, args.overrides), EXIT_CONFIG)
    return cfgs


@hydra.main(version_base=VERSION_BASE, config_path=str(CONFIG_DIR), config_name=CONFIG_NAME)
def hydra_app(cfg: DictConfig) -> float | list[float] | None:
    """One job of ``cxsim-run`` (Hydra calls it per run; call it without arguments to run
    Hydra on ``sys.argv``). Returns the run's objective (``objective``: summary numbers), so
    that any Hydra sweeper can optimise it."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:  # one of n_jobs workers (basic launcher: one)
        set_worker_threads(OmegaConf.select(hydra_cfg, "launcher.n_jobs", default=1))
    problem = run_problem(run_dir)  # files checked against the manifest (sim.runs.io.verify_run)
    if problem is None and not cfg.force:
        print(f"{PROG}: {run_dir} is complete; skipped (force=true runs it again)",
              file=sys.stderr)
        return run_objective(run_dir, cfg.objective)
    if isinstance(problem, RunDamaged):
        print(f"{PROG}: {problem}; running it again", file=sys.stderr)
    try:
        run(params_from_cfg(cfg), run_dir, progress=cfg.progress and sys.stderr.isatty())
    except OSError as err:
        _fail(err, f"cannot write {run_dir}: {err}", EXIT_RUN)
    print(f"{PROG}: wrote {run_dir}", file=sys.stderr)
    return run_objective(run_dir, cfg.objective)


def run_objective(run_dir: Path, names: Sequence[str]) -> float | list[float] | None:
    """What the job returns to its sweeper (``objective=[...]``): the run's summary number
    of one name, a list for several, None for none."""
    if not names:
        return None
    summary = read_summary(run_dir)
    missing = [n for n in names if not isinstance(summary.get(n), (int, float))]
    if missing:
        numbers = sorted(k for k, v in summary.items() if isinstance(v, (int, float)))
        _fail(KeyError(missing[0]), f"objective={missing[0]}: not a number of the run's "
              f"summary; allowed: {', '.join(numbers)}", EXIT_CONFIG)
    values = [float(summary[n]) for n in names]
    return values[0] if len(values) == 1 else values


def _validated_already(self, batch) -> None:
    """``check`` has composed and validated every job of the sweep (``compose_jobs``)."""


def launch() -> None:
    """Hydra on ``sys.argv``, once ``check`` has validated that command line."""
    # Hydra's sweeper composes every job once more before launching it, at a tenth of a
    # second or more per job (minutes for a few hundred runs); everything it would catch,
    # check() has caught. Only this process, after check(), skips it. (Patched on the base
    # class: Hydra's plugin scan re-executes the basic sweeper's module.)
    Sweeper.validate_batch_is_legal = _validated_already
    hydra_app()


def main() -> None:
    """Entry point of ``cxsim-run``: Hydra's command line (``--help``, ``-m``, overrides)."""
    check(sys.argv[1:])
    launch()


if __name__ == "__main__":
    main()
