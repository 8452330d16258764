"""``cxsim-run``: one simulation (or a Hydra ``--multirun`` sweep) from the configs.

    cxsim-run policy=silent_hike population.size=20000 seed=3
    cxsim-run -m policy=baseline,silent_hike seed=0,1,2 study=hike
    cxsim-run -m experiment=premium_hike                  # a study: configs/experiment/premium_hike.yaml
    cxsim-run -m hydra/launcher=joblib seed='range(20)'   # parallel: one worker per core
    cxsim-run --policies                                  # the policies and what each is (--experiments)

Each run writes ``<results_dir>/<study>/<policy>/<config hash>/`` (see ``sim.runs.io``); a multirun
ends by collecting its study (``sim.runs.study``: ``runs.parquet``, ``daily.parquet``). A sweep
worker sets numba's threads so that the workers together use each core once (a Ray task or a
submitit job: the cores its launcher reserves for it, ``sim.runs.study.launcher_threads``). The
command line is composed and validated in full before Hydra starts (``sim.runs.config.compose_jobs``),
so an unknown key, a wrong type, a value out of range, a missing policy, a key given twice,
a config file that is not valid YAML or an output directory that cannot be written stops
everything with one line on stderr and exit status 2 (set ``HYDRA_FULL_ERROR=1`` for the traceback).
A run whose directory is already complete (its files those its manifest records) is skipped
unless ``force=true``; a damaged one is named in one line and run again. A single run
prints its headline numbers on stdout (``headline``); a sweep prints "k of N runs, ETA"
on stderr from the main process (``SweepProgress``, whatever the launcher).
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import threading
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

from sim.runs import config as sim_config
from sim.runs.config import (CONFIG_DIR, CONFIG_NAME, VERSION_BASE, _given, compose_jobs,
                             error_line, params_from_cfg, policy_edits)
from sim.runs.io import (RunDamaged, check_writable, config_hash, is_complete, read_summary,
                         run_problem, write_run)
from sim.core.model import LoyaltyModel
from sim.core.params import ParamError, SimParams
from sim.runs.study import experiment_question, set_worker_threads
from sim.runs.warm import STORE as WARM_STARTS

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


def policy_record(params: SimParams, policy: str | None = None,
                  config_dirs: Sequence[Path] = ()) -> dict:
    """What the run's summary says of its policy beyond the name: ``policy_edited`` (true
    when a value differs from its policy file, ``policy/<policy>.yaml``; null when no file
    has its name) and ``policy_edits`` (those fields; ``sim.runs.config.policy_edits``)."""
    edits = policy_edits(params, policy, config_dirs)
    return {"policy_edited": None if edits is None else bool(edits), "policy_edits": edits or []}


def run(params: SimParams, run_dir: Path | str, progress: bool = False,
        policy_file: str | None = None, config_dirs: Sequence[Path] = ()) -> Path:
    """Simulate one configuration and write its run directory (``sim.runs.io.write_run``).
    ``policy_file``, ``config_dirs``: the policy file it was composed from and where (for
    ``policy_record``; by default the file named as the policy, in ``CONFIG_DIR``)."""
    started = time.perf_counter()
    model = LoyaltyModel(params, warm_starts=WARM_STARTS)
    sampled = sampled_customers(model)
    with tqdm(total=params.horizon_days, unit="day", file=sys.stderr, leave=False,
              desc=f"{params.policy.name} seed {params.seed}", disable=not progress) as bar:
        model.run(progress=(lambda done, total: bar.update(done - bar.n)) if progress else None)
    outputs = model_outputs(model, sampled)
    outputs["summary"] = {**outputs["summary"],
                          **policy_record(params, policy_file, config_dirs)}
    return write_run(run_dir, params, **outputs, wall_seconds=time.perf_counter() - started)


# -- what there is to run: --policies, --experiments -------------------------------------------
LISTINGS = {"--policies": "policy", "--experiments": "experiment"}


def gist(header: str, short: int = 60) -> str:
    """A header's first sentence, and the next one too when the first is short."""
    header = re.sub(r"(?<=\w)- (?=[a-z])", "-", header)  # a word hyphenated at a line end
    sentences = re.split(r"(?<=[.?!])\s+(?=[A-Z\"(])", header.strip())
    text = sentences[0]
    if len(text) < short and len(sentences) > 1:
        text += " " + sentences[1]
    return text


def describe(group: str, config_dir: Path = CONFIG_DIR, width: int = 100) -> str:
    """Every config file of ``group`` (``configs/<group>/*.yaml``): its name, then the gist
    of the header comment that says what it is (a policy's story, an experiment's question;
    ``gist``)."""
    paths = sorted((config_dir / group).glob("*.yaml"))
    pad = max((len(p.stem) for p in paths), default=0) + 2
    blocks = []
    for path in paths:
        try:
            header = gist(experiment_question(path)) or "(no header comment)"
        except (OSError, UnicodeDecodeError) as err:
            header = f"(unreadable: {err})"
        blocks.append(textwrap.fill(header, width=width, initial_indent=path.stem.ljust(pad),
                                    subsequent_indent=" " * pad))
    return "\n".join(blocks)


# -- the numbers of one run --------------------------------------------------------------------
def headline(summary: dict) -> str:
    """The headline numbers of one run's summary (``summary.json``), a few lines to print."""
    def money(key: str) -> str:
        value = summary.get(key)
        return "n/a" if value is None else f"{value:,.0f}"
    edited = summary.get("policy_edits") or []
    policy = summary["policy"] + (f" (edited: {', '.join(edited)})" if edited else "")
    share = summary.get("churn_share")
    share = "" if share is None else f" ({share:.1%} of the customers on the books)"
    hold = summary.get("hold_minutes_max")
    rows = [("customers lost", f"{summary['churned']:,}{share}"),
            ("revenue", money("revenue")), ("profit", money("profit")),
            ("NPV of profit", money("npv_profit")),
            ("customer equity", money("customer_equity")),
            ("longest hold", "n/a" if hold is None else f"{hold:,.0f} minutes")]
    title = (f"{policy}, seed {summary['seed']}: {summary['customers_start']:,} customers "
             f"over {summary['days']:,} days")
    return "\n".join([title, *(f"  {k:<16} {v}" for k, v in rows)])


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
        if not (sim_config.CONFIG_DIR / f"{CONFIG_NAME}.yaml").is_file():
            raise ParamError(f"no configs in {sim_config.CONFIG_DIR} (a plain install carries "
                             "them, setup.py); install cxsim again with pip, or run it from "
                             "its repository")
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
    if hydra_cfg.mode == RunMode.MULTIRUN:  # a job of a sweep: the launcher's share of cores
        set_worker_threads(hydra_cfg.launcher)
    if cfg.design_points:  # several points of a sample design (sim.sensitivity.sweeper);
        # a design the job was not made from raises ParamError: the job fails, the sweep stops
        from sim.sensitivity.sweeper import job_points
        sweep_dir = Path(hydra_cfg.sweep.dir)
        for _, params in job_points(cfg, sweep_dir):
            run_or_skip(params, sweep_dir / params.policy.name / config_hash(params), cfg,
                        hydra_cfg)
        return None
    run_or_skip(params_from_cfg(cfg), run_dir, cfg, hydra_cfg)
    if hydra_cfg.mode == RunMode.RUN:  # one run: its numbers (a sweep's are in runs.parquet)
        print(headline(read_summary(run_dir)), flush=True)
    return run_objective(run_dir, cfg.objective)


def run_or_skip(params: SimParams, run_dir: Path, cfg: DictConfig, hydra_cfg) -> None:
    """Run ``params`` into ``run_dir`` unless it is complete (``force=true`` runs it again);
    a damaged one is named and made again."""
    problem = run_problem(run_dir)  # files checked against the manifest (sim.runs.io.verify_run)
    if problem is None and not cfg.force:
        print(f"{PROG}: {run_dir} is complete; skipped (force=true runs it again)",
              file=sys.stderr)
        return
    if isinstance(problem, RunDamaged):
        print(f"{PROG}: {problem}; running it again", file=sys.stderr)
    try:
        dirs = [Path(str(c.path).removeprefix("file://"))
                for c in hydra_cfg.runtime.config_sources if c.schema == "file"]
        run(params, run_dir, progress=cfg.progress and sys.stderr.isatty(),
            policy_file=hydra_cfg.runtime.choices.get("policy"), config_dirs=dirs)
    except OSError as err:
        _fail(err, f"cannot write {run_dir}: {err}", EXIT_RUN)
    print(f"{PROG}: wrote {run_dir}", file=sys.stderr)


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


# -- a sweep's progress ------------------------------------------------------------------------
def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SweepProgress:
    """"k of N runs, ETA" on stderr in the main process of a sweep, whatever the launcher:
    a thread watches the sweep's run directories (``sim.runs.io.is_complete``) rather than
    the workers, which are no terminals (joblib) or other machines. On a terminal a line
    for every finished run, else a line at every tenth of the sweep, so a log stays short.
    Runs already complete at the start (skipped on resume) count as done, not towards the
    ETA; with ``force=true`` a run counts once it is written again."""

    def __init__(self, run_dirs: Sequence[Path], force: bool = False, poll_s: float = 1.0,
                 every_run: bool | None = None, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.pending = list(dict.fromkeys(Path(d) for d in run_dirs))  # distinct, in order
        self.total = len(self.pending)
        self.force, self.poll_s = force, poll_s
        self.every_run = self.stream.isatty() if every_run is None else every_run
        self.started = time.time()
        self.done = self.done_at_start = 0 if force else self._count()
        self.shown = self.done
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cxsim-sweep-progress",
                                        daemon=True)

    def _finished(self, run_dir: Path) -> bool:
        manifest = run_dir / "manifest.json"
        try:  # (force: the manifest must be newer than the sweep)
            if not manifest.is_file() or self.force and manifest.stat().st_mtime < self.started:
                return False
        except OSError:
            return False
        return is_complete(run_dir)

    def _count(self) -> int:
        still = [d for d in self.pending if not self._finished(d)]
        done = self.total - len(still)
        self.pending = still
        return done

    def line(self) -> str:
        new, left = self.done - self.done_at_start, self.total - self.done
        text = f"{PROG}: {self.done} of {self.total} runs"
        if left and new:
            text += f", ETA {_clock((time.time() - self.started) / new * left)}"
        elif not left:
            text += f", done in {_clock(time.time() - self.started)}"
        return text

    def _show(self, final: bool = False) -> None:
        self.done = self._count()
        if self.done == self.shown:
            return
        step = max(1, self.total // 10)  # a line at every tenth (always at the end)
        if self.every_run or self.done == self.total or final or \
                self.done // step > self.shown // step:
            print(self.line(), file=self.stream, flush=True)
            self.shown = self.done

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._show()

    def __enter__(self) -> SweepProgress:
        already = f" ({self.done} already complete)" if self.done else ""
        print(f"{PROG}: a sweep of {self.total} runs{already}", file=self.stream, flush=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._stop.set()
        self._thread.join()
        if exc_type is None:  # (a failed sweep's last line is its error)
            self._show(final=True)


def sweep_run_dirs(cfgs: Sequence[DictConfig]) -> list[Path]:
    """The run directories of a sweep's composed jobs (``hydra.sweep.dir``/``subdir``), or
    those its sweeper says it makes (a sample design's: ``SamplingSweeper.run_dirs``)."""
    target = OmegaConf.select(cfgs[0], "hydra.sweeper._target_") if cfgs else None
    if target:
        from hydra.utils import get_class
        run_dirs = getattr(get_class(target), "run_dirs", None)
        if run_dirs is not None:
            return run_dirs(cfgs[0].hydra.sweeper, cfgs)
    return [Path(str(c.hydra.sweep.dir)) / str(c.hydra.sweep.subdir) for c in cfgs]


def launch(jobs: Sequence[DictConfig] | None = None) -> None:
    """Hydra on ``sys.argv``, once ``check`` has validated that command line. ``jobs``: the
    jobs ``check`` returned for a ``--multirun``, to show the sweep's progress (``SweepProgress``;
    not for a sweep of one run)."""
    # Hydra's sweeper composes every job once more before launching it, at a tenth of a
    # second or more per job (minutes for a few hundred runs); everything it would catch,
    # check() has caught. Only this process, after check(), skips it. (Patched on the base
    # class: Hydra's plugin scan re-executes the basic sweeper's module.)
    Sweeper.validate_batch_is_legal = _validated_already
    run_dirs = sweep_run_dirs(jobs or [])
    if len(set(run_dirs)) < 2:  # a single run needs no sweep progress
        hydra_app()
        return
    with SweepProgress(run_dirs, force=any(c.force for c in jobs)):
        hydra_app()


def main() -> None:
    """Entry point of ``cxsim-run``: Hydra's command line (``--help``, ``-m``, overrides),
    and ``--policies`` / ``--experiments``, which list the configs with what each is."""
    argv = sys.argv[1:]
    listings = [flag for flag in argv if flag in LISTINGS]
    if listings:
        print("\n\n".join(describe(LISTINGS[flag]) for flag in dict.fromkeys(listings)))
        return
    jobs = check(argv)
    args = get_args_parser().parse_args(argv)
    launch(jobs if args.multirun and args.cfg is None and not prints_only(args) else None)


if __name__ == "__main__":
    main()
