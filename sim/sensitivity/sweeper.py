"""Hydra sweepers of cxsim: sample designs (SALib) and a policy search (optuna ask/tell).

Hydra finds them through the plugin package ``hydra_plugins.cxsim_sweepers`` (its source is
``sim/sensitivity/hydra_plugins/``), which registers the configs ``hydra/sweeper=cxsim_lhs``,
``cxsim_morris``, ``cxsim_sobol`` (``SamplingSweeper``) and ``cxsim_optuna``
(``OptunaSweeper``). Both hand their jobs to whatever launcher is configured (basic, joblib),
so run directories named by config hash, skipping complete runs on resume, and the study's
collection at the end (``sim.runs.study.CollectStudy``) work as for any cxsim sweep.

``SamplingSweeper``: ``hydra.sweeper.params`` (and the command line) sweep as Hydra's basic
sweeper does: the policies and seeds of the study; every point of the design
(``sim.sensitivity.sampling``) of the uncertainty space ``hydra.sweeper.space``
(``configs/uncertainty/<name>.yaml``) is crossed with every one of those jobs. So each point
runs under each policy on the same seeds (common random numbers), and differences between
policies are paired per point and seed. The design goes to ``<study>/design.json`` before any
run (the analysis, ``cxsim-analyse``, maps the runs back to its points by their values).
A job makes ``runs_per_job`` runs in turn (``design_points``: the points it runs, read from
``design.json``, whose fingerprint it carries as ``design_id``): Hydra's bookkeeping of a job
(composing, copying and saving its config, logging) costs about a quarter of a second, as
much as a small run, so it is paid once per job rather than once per run. Each run still
goes to ``<study>/<policy>/<config hash>/``, is skipped there when complete and kept when the
sweep is killed; a job's own record (``.hydra/``) goes to ``<study>/.jobs/``. With
``runs_per_job=1`` every run is its own Hydra job.

``OptunaSweeper``: each trial asks optuna for the levers ``hydra.sweeper.levers`` (policy
parameters), runs them on every job of ``hydra.sweeper.params`` (seeds: the same for every
trial) and tells optuna the objectives (``hydra.sweeper.objectives``, summary numbers the
runs return: ``cxsim-run objective=[...]``) averaged over the seeds. The study is kept in
SQLite (``<study>/optuna.db``): run again, the search goes on where it stopped; trials that
were running when the process was killed are asked again with the same levers (their
complete runs are skipped).

Both check their space before anything runs (``check_jobs``, called by ``cxsim-run``'s
pre-check, ``sim.runs.config.compose_jobs``): a range outside a parameter's allowed values,
or a sampled point that breaks a rule tying several values together, stops the command with
one line and exit status 2.
"""

from __future__ import annotations

import copy
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim.core.params import ParamError, validate
from sim.sensitivity.sampling import DESIGN, design, write_design
from sim.sensitivity.space import Space, set_values

OPTUNA_DB = "optuna.db"
DIRECTIONS = ("maximize", "minimize")
SAMPLERS = ("nsga2", "tpe", "random")
# summary numbers a run can return as its objective (cxsim-run objective=[...])
OBJECTIVES = ("profit_year1", "customer_equity", "npv_profit", "revenue_year1",
              "retention_annual", "churned", "future_value", "customers_end", "nps_mean")


@dataclass
class SamplingSweeperConf:
    _target_: str = "hydra_plugins.cxsim_sweepers.SamplingSweeper"
    method: str = "morris"          # lhs | morris | sobol
    n: int = 10                     # points (lhs), trajectories (morris), base sample (sobol)
    levels: int = 4                 # Morris grid levels
    second_order: bool = False      # Sobol: second-order indices too (2D + 2 points per n)
    seed: int = 0                   # the sampler's seed (not the runs': those are swept)
    max_batch_size: Optional[int] = None
    fast_compose: bool = True       # compose a job once per policy, set the point's values (FastSweepLoader)
    runs_per_job: int = 8           # runs a Hydra job makes in turn (1: a job per run)
    params: Optional[Dict[str, str]] = None   # the other sweeps: policies, seeds
    space: Optional[Dict[str, Any]] = None    # the uncertainty space (uncertainty=<name>)


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.cxsim_sweepers.OptunaSweeper"
    levers: Optional[Dict[str, Any]] = None   # policy parameters searched: [low, high] or {choices}
    objectives: List[str] = field(default_factory=lambda: ["profit_year1", "customer_equity"])
    directions: List[str] = field(default_factory=lambda: ["maximize", "maximize"])
    n_trials: int = 20              # complete trials wanted (counted over every resume)
    batch_size: int = 2             # trials launched together (one per worker)
    sampler: str = "nsga2"          # nsga2 | tpe | random
    seed: int = 0                   # the sampler's seed
    storage: Optional[str] = None   # optuna storage URL; default sqlite:///<study>/optuna.db
    study_name: Optional[str] = None  # default: the cxsim study
    fast_compose: bool = True       # compose a job once, set the levers' values (FastSweepLoader)
    params: Optional[Dict[str, str]] = None   # the other sweeps: seeds (one policy)


def _container(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def _base_params(cfgs: Sequence[DictConfig]) -> dict:
    """One validated SimParams per policy among composed jobs."""
    from sim.runs.config import params_from_cfg
    out = {}
    for cfg in cfgs:
        name = cfg.policy.name
        if name not in out:
            out[name] = params_from_cfg(cfg)
    return out


def check_point(base: dict, values: dict, label: str, where: str) -> None:
    """Every policy's parameters with ``values`` set must pass ``validate``."""
    for policy, params in base.items():
        try:
            validate(set_values(params, values))
        except ParamError as err:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise ParamError(f"{where}: {label} ({shown}) under policy {policy}: {err}") \
                from err


# per process: (sweep token, the job's other overrides) -> the job composed by Hydra
_COMPOSED: dict = {}


def _plain_value(text: str) -> Any:
    """A value as ``Space.overrides`` writes it (and a seed, a job's ``design_points``):
    bool, int, float, a list of integers or a string."""
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("[") and text.endswith("]"):
        return [int(x) for x in text[1:-1].split(",") if x]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class FastSweepLoader:
    """Hydra's config loader for a sweep's launcher, with the jobs' sampled values set on a
    copy of a job composed once instead of composing every job (a tenth of a second or more
    each, the largest part of a sweep's overhead per run; ``_compose_each`` does the same
    for seeds in cxsim-run's pre-check). Only the design's keys (model parameters: plain
    numbers and choices, no config groups, nothing the config files refer to) and ``seed``
    are set this way; a job differing in anything else is composed. The result is the
    config Hydra composes (tests/sensitivity/test_sweeper.py compares them). Pickled to
    joblib's workers; each worker keeps its own cache."""

    def __init__(self, inner: Any, plain_keys: Sequence[str], token: str) -> None:
        self.inner, self.plain_keys, self.token = inner, frozenset(plain_keys), token

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("inner", "plain_keys", "token"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]):
        plain = [o for o in sweep_overrides if o.partition("=")[0] in self.plain_keys]
        rest = [o for o in sweep_overrides if o not in plain]
        key = (self.token, tuple(rest))
        if key not in _COMPOSED:
            if any(k[0] != self.token for k in _COMPOSED):
                _COMPOSED.clear()  # another sweep's
            _COMPOSED[key] = self.inner.load_sweep_config(master_config, rest)
        cfg = copy.deepcopy(_COMPOSED[key])
        with read_write(cfg), open_dict(cfg):
            for item in plain:
                k, _, v = item.partition("=")
                OmegaConf.update(cfg, k, _plain_value(v), merge=False)
            cfg.hydra.overrides.task = list(sweep_overrides)
            cfg.hydra.job.override_dirname = _override_dirname(cfg, sweep_overrides)
        return cfg


def _override_dirname(cfg: DictConfig, overrides: list[str]) -> str:
    """``hydra.job.override_dirname`` as Hydra makes it (sorted key=value, its separators
    and excluded keys)."""
    conf = cfg.hydra.job.config.override_dirname
    exclude = set(conf.exclude_keys)
    items = sorted(o for o in overrides if o.partition("=")[0] not in exclude)
    return conf.item_sep.join(i.replace("=", conf.kv_sep, 1) for i in items)


class _Base(Sweeper):
    def __init__(self) -> None:
        super().__init__()
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher = None
        self.job_idx = 0

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        from hydra.core.plugins import Plugins
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def base_jobs(self, params: dict | None, arguments: list[str]) -> list[list[str]]:
        """The jobs of ``params`` and the command line, as Hydra's basic sweeper makes them."""
        from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
        from hydra.core.override_parser.overrides_parser import OverridesParser
        conf = [f"{k}={v}" for k, v in (params or {}).items()] + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        return BasicSweeper.split_arguments(parser.parse_overrides(conf), None)[0]

    def sweep_dir(self) -> Path:
        out = Path(self.config.hydra.sweep.dir)
        out.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, out / "multirun.yaml")
        return out

    def use_fast_loader(self, keys: Sequence[str]) -> None:
        """The launcher composes each job with ``FastSweepLoader`` (``fast_compose``)."""
        if getattr(self, "fast_compose", True) and hasattr(self.launcher, "hydra_context"):
            fast = FastSweepLoader(self.hydra_context.config_loader,
                                   [*keys, "seed", *BATCH_KEYS], uuid.uuid4().hex)
            self.launcher.hydra_context = HydraContext(config_loader=fast,
                                                       callbacks=self.hydra_context.callbacks)

    def launch(self, batch: list[list[str]]):
        self.validate_batch_is_legal(batch)
        results = self.launcher.launch(batch, initial_job_idx=self.job_idx)
        self.job_idx += len(batch)
        return results


# -- sample designs ---------------------------------------------------------------------------
# what a job of several runs carries (``SamplingSweeper.jobs``): the points it runs, the
# design's fingerprint, and a directory of its own for Hydra's record of it
BATCH_KEYS = ("design_points", "design_id", "hydra.sweep.subdir")
JOBS_DIR = ".jobs"


def design_id(d: Any) -> str:
    """A short fingerprint of a design (``Design`` or the dict of ``design.json``)."""
    import hashlib
    import json
    data = d.to_json() if hasattr(d, "to_json") else d
    data = {k: data[k] for k in ("method", "settings", "names", "values")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "design-" + hashlib.sha256(text.encode()).hexdigest()[:12]  # never read as a number


def distinct_points(values: Sequence[dict]) -> list[int]:
    """The first index of every distinct point (a point Morris visits twice runs once)."""
    seen, out = set(), []
    for i, v in enumerate(values):
        key = tuple(sorted((k, repr(x)) for k, x in v.items()))
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def point_params(cfg: DictConfig, values: dict):
    """The SimParams of ``cfg`` with a point's values set on it (in place: the points of a
    design set the same keys, so each point's values replace the last's) as
    ``FastSweepLoader`` sets them (each value through its override's text,
    ``Space.overrides``), then parsed and validated (``params_from_cfg``)."""
    from sim.runs.config import params_from_cfg
    from sim.sensitivity.space import override
    with read_write(cfg), open_dict(cfg):
        for key, value in values.items():
            OmegaConf.update(cfg, key, _plain_value(override(key, value).partition("=")[2]),
                             merge=False)
    return params_from_cfg(cfg)


def job_points(cfg: DictConfig, sweep_dir: Path):
    """The points of a job of several runs (``design_points``) as (index, SimParams), from
    ``<sweep dir>/design.json``; ParamError when that design is not the one the job was
    made from (``design_id``: another sweep has written the study's design since)."""
    from sim.sensitivity.sampling import read_design
    data = read_design(sweep_dir / DESIGN)
    if design_id(data) != cfg.design_id:
        raise ParamError(f"design_id={cfg.design_id}: {sweep_dir / DESIGN} holds another "
                         f"design ({design_id(data)}); another sweep wrote it since this one "
                         "started: run the sweep again")
    points = copy.deepcopy(cfg)
    for i in cfg.design_points:
        yield i, point_params(points, data["values"][i])


class SamplingSweeper(_Base):
    """Every point of a SALib design of ``space`` x every job of ``params``."""

    def __init__(self, method: str = "morris", n: int = 10, levels: int = 4,
                 second_order: bool = False, seed: int = 0,
                 max_batch_size: Optional[int] = None, params: Optional[dict] = None,
                 space: Optional[dict] = None, fast_compose: bool = True,
                 runs_per_job: int = 8) -> None:
        super().__init__()
        self.fast_compose = fast_compose
        self.runs_per_job = runs_per_job
        self.method, self.n, self.levels = method, n, levels
        self.second_order, self.seed = second_order, seed
        self.max_batch_size = max_batch_size
        self.params = _container(params) or {}
        self.space = _container(space) or {}

    @staticmethod
    def make_design(sweeper_cfg: Any):
        c = _container(sweeper_cfg)
        space = Space.parse(c.get("space"), "hydra.sweeper.space")
        return design(space, c.get("method", "morris"), c.get("n", 10), c.get("seed", 0),
                      c.get("levels", 4), c.get("second_order", False))

    @staticmethod
    def check_jobs(sweeper_cfg: Any, cfgs: Sequence[DictConfig]) -> None:
        """Before anything runs: the space against the parameters' allowed values, then every
        point under every policy of the study (``validate``'s rules). Raises ParamError."""
        per_job = _container(sweeper_cfg).get("runs_per_job", SamplingSweeperConf.runs_per_job)
        if isinstance(per_job, bool) or not isinstance(per_job, int) or per_job < 1:
            raise ParamError(f"hydra.sweeper.runs_per_job={per_job!r}: must be an integer "
                             ">= 1 (1: a Hydra job per run)")
        d = SamplingSweeper.make_design(sweeper_cfg)
        base = _base_params(cfgs)
        for i, values in enumerate(d.values):
            check_point(base, values, f"point {i}", "hydra.sweeper.space")

    @staticmethod
    def run_dirs(sweeper_cfg: Any, cfgs: Sequence[DictConfig]) -> list[Path]:
        """The run directories the sweep makes: every distinct point under every job of
        ``cfgs`` (for the sweep's progress; ``check_jobs`` has validated them)."""
        from sim.runs.config import params_from_cfg
        from sim.runs.io import config_hash
        d = SamplingSweeper.make_design(sweeper_cfg)
        points = [d.values[i] for i in distinct_points(d.values)]
        out = []
        for cfg in cfgs:
            params, where = params_from_cfg(cfg), Path(str(cfg.hydra.sweep.dir))
            out += [where / params.policy.name / config_hash(set_values(params, v))
                    for v in points]
        return out

    def jobs(self, arguments: list[str]) -> list[list[str]]:
        """Every distinct point x every job of ``params``, point by point (the policies of
        a point run together); ``runs_per_job`` > 1: chunks of that many points, each
        under every job of ``params``."""
        d = self.make_design({"space": self.space, "method": self.method, "n": self.n,
                              "seed": self.seed, "levels": self.levels,
                              "second_order": self.second_order})
        self.design = d
        base = self.base_jobs(self.params, arguments)
        points = distinct_points(d.values)
        self.n_runs = len(points) * len(base)
        if self.runs_per_job == 1:
            return [[*job, *d.space.overrides(d.values[i])] for i in points for job in base]
        import hashlib
        ident, jobs = design_id(d), []
        for start in range(0, len(points), self.runs_per_job):
            chunk = ",".join(map(str, points[start:start + self.runs_per_job]))
            for job in base:
                tag = hashlib.sha256(" ".join(job).encode()).hexdigest()[:8]
                jobs.append([*job, f"design_points=[{chunk}]", f"design_id={ident}",
                             f"hydra.sweep.subdir={JOBS_DIR}/{start:05d}-{tag}"])
        return jobs

    def sweep(self, arguments: list[str]) -> Any:
        jobs = self.jobs(arguments)
        self.use_fast_loader(self.design.space.names)
        out = self.sweep_dir()
        write_design(out / DESIGN, self.design)
        print(f"cxsim-run: {self.method} design: {len(self.design.values)} points, "
              f"{self.n_runs} runs in {len(jobs)} jobs; written to {out / DESIGN}", file=sys.stderr)
        size = self.max_batch_size or len(jobs)
        returns = []
        for start in range(0, len(jobs), size):
            results = self.launch(jobs[start:start + size])
            for r in results:
                _ = r.return_value  # a failed job raises here, as in Hydra's basic sweeper
            returns.append(results)
        return returns


# -- policy search ----------------------------------------------------------------------------
def _sampler(name: str, seed: int):
    import optuna
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)


def open_study(storage: str, study_name: str, directions: Sequence[str], sampler: str = "nsga2",
               seed: int = 0):
    """The optuna study in ``storage`` (made if new), its trials left running by a killed
    process failed and queued again with their levers. Returns (study, requeued)."""
    import optuna
    from optuna.trial import TrialState
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=study_name,
                                directions=list(directions), sampler=_sampler(sampler, seed),
                                load_if_exists=True)
    requeued = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"requeued_from": t.number})
        requeued += 1
    return study, requeued


def suggest(trial, space: Space) -> dict:
    out = {}
    for d in space.dims:
        if d.kind == "float":
            out[d.key] = trial.suggest_float(d.key, d.low, d.high)
        elif d.kind == "int":
            out[d.key] = trial.suggest_int(d.key, int(d.low), int(d.high))
        else:
            out[d.key] = trial.suggest_categorical(d.key, list(d.choices))
    return out


class OptunaSweeper(_Base):
    """Policy levers searched with optuna (ask/tell) for the objectives' Pareto front."""

    def __init__(self, levers: Optional[dict] = None, objectives: Sequence[str] = (),
                 directions: Sequence[str] = (), n_trials: int = 20, batch_size: int = 2,
                 sampler: str = "nsga2", seed: int = 0, storage: Optional[str] = None,
                 study_name: Optional[str] = None, params: Optional[dict] = None,
                 fast_compose: bool = True) -> None:
        super().__init__()
        self.fast_compose = fast_compose
        self.levers = _container(levers) or {}
        self.objectives, self.directions = list(objectives), list(directions)
        self.n_trials, self.batch_size = n_trials, batch_size
        self.sampler, self.seed = sampler, seed
        self.storage, self.study_name = storage, study_name
        self.params = _container(params) or {}

    @staticmethod
    def check_settings(c: dict) -> Space:
        space = Space.parse(c.get("levers"), "hydra.sweeper.levers", allow_policy=True,
                            what="lever space")
        for key in space.names:
            if not key.startswith("policy."):
                raise ParamError(f"hydra.sweeper.levers.{key}: not a policy lever; levers "
                                 "are policy.* parameters (assumptions: uncertainty=<name>)")
        objectives, directions = list(c.get("objectives") or []), list(c.get("directions") or [])
        for o in objectives:
            if o not in OBJECTIVES:
                raise ParamError(f"hydra.sweeper.objectives: {o}: must be among "
                                 + ", ".join(OBJECTIVES))
        if not objectives or len(directions) != len(objectives) \
                or any(d not in DIRECTIONS for d in directions):
            raise ParamError(f"hydra.sweeper.directions={directions}: must give maximize or "
                             f"minimize for each objective ({', '.join(objectives) or 'none'})")
        if c.get("sampler", "nsga2") not in SAMPLERS:
            raise ParamError(f"hydra.sweeper.sampler={c.get('sampler')}: must be one of "
                             + ", ".join(SAMPLERS))
        for key in ("n_trials", "batch_size"):
            if not isinstance(c.get(key, 1), int) or c.get(key, 1) < 1:
                raise ParamError(f"hydra.sweeper.{key}={c.get(key)}: must be an integer >= 1")
        return space

    @staticmethod
    def check_jobs(sweeper_cfg: Any, cfgs: Sequence[DictConfig]) -> None:
        """Before anything runs: the levers against the policy's allowed values, the
        objectives, one policy only."""
        OptunaSweeper.check_settings(_container(sweeper_cfg))
        policies = {c.policy.name for c in cfgs}
        if len(policies) != 1:
            raise ParamError(f"policy: the search starts from one policy; got "
                             f"{', '.join(sorted(policies))}")

    def sweep(self, arguments: list[str]) -> Any:
        from optuna.trial import TrialState
        space = self.check_settings(self.__dict__)
        out = self.sweep_dir()
        storage = self.storage or f"sqlite:///{(out / OPTUNA_DB).resolve()}"
        name = self.study_name or str(self.config.study)
        study, requeued = open_study(storage, name, self.directions, self.sampler, self.seed)
        study.set_user_attr("objectives", self.objectives)
        if requeued:
            print(f"cxsim-run: {requeued} trial(s) left running by an earlier sweep asked "
                  "again", file=sys.stderr)
        base_jobs = self.base_jobs(self.params, arguments)
        base = self._validation_params(base_jobs)
        self.use_fast_loader(space.names)
        objective = f"objective=[{','.join(self.objectives)}]"
        attempts = 0
        while True:
            done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            if done >= self.n_trials or attempts >= 10 * self.n_trials:
                break
            trials, batch = [], []
            while len(trials) < min(self.batch_size, self.n_trials - done):
                attempts += 1
                trial = study.ask()
                values = suggest(trial, space)
                try:
                    check_point(base, values, f"trial {trial.number}", "hydra.sweeper.levers")
                except ParamError as err:  # a rule tying several levers: not run
                    trial.set_user_attr("error", str(err))
                    study.tell(trial, state=TrialState.FAIL)
                    if attempts >= 10 * self.n_trials:
                        break
                    continue
                trials.append(trial)
                batch += [[*job, *space.overrides(values), objective] for job in base_jobs]
            if not trials:
                break
            results = self.launch(batch)
            k = len(base_jobs)
            for i, trial in enumerate(trials):
                runs = results[i * k:(i + 1) * k]
                if any(r.status != JobStatus.COMPLETED for r in runs):
                    failed = next(r for r in runs if r.status != JobStatus.COMPLETED)
                    trial.set_user_attr("error", str(failed._return_value))
                    study.tell(trial, state=TrialState.FAIL)
                    continue
                per_seed = [list(map(float, _as_list(r.return_value))) for r in runs]
                trial.set_user_attr("per_seed", per_seed)
                means = [sum(v[j] for v in per_seed) / len(per_seed)
                         for j in range(len(self.objectives))]
                study.tell(trial, means)
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        print(f"cxsim-run: optuna study {name}: {done} complete trial(s), "
              f"{len(study.best_trials)} on the Pareto front; {storage}", file=sys.stderr)
        return study

    def _validation_params(self, base_jobs: list[list[str]]) -> dict:
        """The base jobs' parameters, composed once per policy (for checking each trial)."""
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, base_jobs[0])
        return _base_params([cfg])


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]
