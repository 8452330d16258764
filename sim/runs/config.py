"""Hydra structured configs: the parameter dataclasses of ``sim.core.params`` as schemas.

``configs/config.yaml`` starts from ``config_schema`` (``RunConfig``: every ``SimParams`` field
plus the run-level keys), and every group file (``configs/<group>/*.yaml``) extends its group's
schema ``/schema/<group>``. So a misspelt key or a value of the wrong type fails while the
config is composed, and ``params_from_cfg`` then checks every range and choice
(``sim.core.params.validate``) before any simulation starts. ``compose_jobs`` adds the checks
of the command line itself (``check_overrides``: a key given twice, a missing key, a boolean
written as anything but true/false) and of the run-level keys (``check_run_keys``: unknown
top-level keys, the study and policy names that name directories, an empty results_dir),
of the command line's config groups (``+policy=x`` and ``~policy`` refused, ``~key`` too),
of the config files themselves (``check_config_files``: a boolean written as anything but
true or false) and, for a sweep, of its launcher (``check_launcher_installed``: a launcher
whose optional extra is missing; ``check_launcher``: a relative results directory on a Ray
cluster). ``load`` is the same composition from Python (``sim.load``). ``error_line`` turns
any of these failures into one line naming the full key, the value and
what is allowed.

Only this module and ``sim.runs.cli`` import Hydra.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import yaml
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_loader import ConfigLoader
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override
from hydra.types import RunMode
from hydra.errors import HydraException, MissingConfigException, OverrideParseException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import (ConfigAttributeError, ConfigKeyError,
                              InterpolationResolutionError, OmegaConfBaseException,
                              ValidationError)

from sim.runs.io import config_hash, is_complete
from sim.core.params import (ParamError, PolicyParams, SimParams, _fmt, from_dict, range_text,
                             validate)

CHECKOUT = Path(__file__).resolve().parents[2]
# the copy of configs/ that a plain install (pip install ., a wheel) carries: setup.py
PACKAGED_CONFIG_DIR = Path(__file__).resolve().parents[1] / "_configs"


def config_dir() -> Path:
    """The Hydra configs: the repository's ``configs/`` when the package runs from a checkout
    (an editable install: edits take effect), else the copy a plain install carries in the
    package (``sim/_configs``, see setup.py)."""
    if (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "configs" / "config.yaml").is_file():
        return CHECKOUT / "configs"
    return PACKAGED_CONFIG_DIR


CONFIG_DIR = config_dir()
# one Hydra experiment file per study (``experiment=<name>``): Hydra's config group
EXPERIMENTS_DIR = CONFIG_DIR / "experiment"
CONFIG_NAME = "config"
VERSION_BASE = "1.3"
JOB_NAME = "cxsim-run"
# the groups of the defaults list: the SimParams fields that are themselves dataclasses
GROUPS = {name: schema for name, schema in typing.get_type_hints(SimParams).items()
          if dataclasses.is_dataclass(schema)}
# the values that name a directory (<results_dir>/<study>/<policy.name>/<config hash>)
NAME_KEYS = ("policy.name", "study")
MAX_NAME = 100
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,%d}" % (MAX_NAME - 1))
NAME_RULE = (f"1 to {MAX_NAME} ASCII letters, digits, '_', '-' or '.', starting with a letter "
             "or digit (it names a directory)")


@dataclass
class RunConfig(SimParams):
    """The primary config: the model's parameters, then where and how to run them."""
    results_dir: str = "results"  # root of all outputs, relative to the working directory
    study: str = "runs"           # runs go to <results_dir>/<study>/<policy>/<config hash>
    progress: bool = True         # progress bar on stderr (shown only on a terminal)
    force: bool = False           # run again even if the run directory is complete
    # the reference scenario of a study's paired differences (sim.report.report): each scenario is
    # compared with the one that has these values and the same values of every other swept
    # parameter, seed by seed. Keys: "policy" (the policy's name) or dotted parameters
    # ("policy.price_change"). Empty: policy=baseline. (Empty by default so that an
    # experiment's baseline replaces it rather than merging into it.)
    baseline: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # the pairs of a study's paired differences instead, each [scenario's policy, its
    # reference's policy] by name, e.g. [[silent_hike, explained_hike]]; empty: each scenario
    # against the baseline above
    comparisons: List[List[str]] = dataclasses.field(default_factory=list)
    # summary numbers the job returns to its sweeper (one: a number; several: a list), e.g.
    # objective=[profit_year1,customer_equity] (sim.sensitivity's optuna sweeper sets it)
    objective: List[str] = dataclasses.field(default_factory=list)
    # set by the sample-design sweepers only (sim.sensitivity.sweeper, runs_per_job > 1):
    # the points of <study>/design.json this job runs in turn, and that design's fingerprint
    design_points: List[int] = dataclasses.field(default_factory=list)
    design_id: str = ""


# run-level keys the sample-design sweepers set on their jobs, never a user
SWEEPER_KEYS = ("design_points", "design_id")
RUN_KEYS = tuple(f.name for f in dataclasses.fields(RunConfig)
                 if f.name not in {g.name for g in dataclasses.fields(SimParams)})


def experiment_files() -> dict[str, Path]:
    """The experiment files, by name (``configs/experiment/<name>.yaml``)."""
    return {p.stem: p for p in sorted(EXPERIMENTS_DIR.glob("*.yaml"))}


def register_configs() -> None:
    """The schemas (the experiments are the config group ``configs/experiment/``, which
    Hydra finds by itself)."""
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=RunConfig)
    for group, schema in GROUPS.items():
        cs.store(group="schema", name=group, node=schema)


def _config_hash_resolver(*, _root_: DictConfig) -> str:
    return config_hash(params_from_cfg(_root_))


def _hydra_subdir_resolver(output_dir: str, force: bool) -> str | None:
    """Hydra's record of a job (``.hydra/``), or None (no record written) when the job's run
    directory is already complete and will be skipped: a re-run touches nothing there."""
    return None if is_complete(output_dir) and not force else ".hydra"


register_configs()
# ${cxsim.config_hash:} names run directories (configs/config.yaml, hydra.run/sweep)
OmegaConf.register_new_resolver("cxsim.config_hash", _config_hash_resolver, replace=True)
OmegaConf.register_new_resolver("cxsim.hydra_subdir", _hydra_subdir_resolver, replace=True)


# -- composing ------------------------------------------------------------------------------
def _initialized() -> initialize_config_dir:
    """Hydra's global state for the compose API, on the configs directory."""
    return initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=VERSION_BASE,
                                 job_name=JOB_NAME)


def compose(overrides: Sequence[str] = (), config_name: str = CONFIG_NAME,
            return_hydra_config: bool = False) -> DictConfig:
    """The primary config with command-line style overrides, as ``cxsim-run`` composes it."""
    with _initialized():
        return hydra_compose(config_name, overrides=list(overrides),
                             return_hydra_config=return_hydra_config)


def compose_jobs(overrides: Sequence[str], multirun: bool = False, config_name: str = CONFIG_NAME,
                 config_dir: str | None = None) -> list[DictConfig]:
    """Every job a ``cxsim-run`` command line asks for, composed as Hydra will compose it
    (with the ``hydra`` node) and validated, so a mistake stops the command before any run.

    ``multirun``: expand sweeps (``seed=0,1,2``, ``policy=glob(*)``) into their cross product,
    as Hydra's basic sweeper does. ``config_dir``: an extra config directory (``-cd``).
    """
    overrides = list(overrides)
    check_overrides(overrides)
    if config_dir is not None:
        overrides.append(f"hydra.searchpath=[file://{Path(config_dir).resolve()}]")
    with _initialized():
        jobs = [overrides]
        if multirun:
            loader = GlobalHydra.instance().config_loader()
            jobs = sweep_jobs(loader, config_name, overrides)
        cfgs = _compose_each(config_name, jobs)
    files_checked = set()
    for cfg in cfgs:
        params_from_cfg(cfg)
        check_run_keys(cfg, overrides)
        choices = tuple(sorted((k, str(v)) for k, v in cfg.hydra.runtime.choices.items()))
        if choices not in files_checked:
            check_config_files(cfg, config_name)
            files_checked.add(choices)
        if multirun:
            check_launcher(cfg, overrides)
    if multirun and cfgs:
        check_sweeper_jobs(cfgs)
    return cfgs


# launchers of Hydra's plugins and of configs/hydra/launcher/ that need an optional extra
LAUNCHER_EXTRAS = {
    **dict.fromkeys(("ray", "ray_aws", "cxsim_ray", "cxsim_ray_local"),
                    ("hydra_plugins.hydra_ray_launcher", "hydra-ray-launcher", "ray")),
    **dict.fromkeys(("submitit_local", "submitit_slurm", "cxsim_slurm", "cxsim_submitit_local"),
                    ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher",
                     "slurm")),
}


def check_launcher_installed(item: str, launcher: Any) -> None:
    """A launcher whose Hydra plugin is an optional extra (``LAUNCHER_EXTRAS``) that is not
    installed: ParamError naming the extra to install (composing would only say that
    there is no such launcher)."""
    if not isinstance(launcher, str) or launcher not in LAUNCHER_EXTRAS:
        return
    module, plugin, extra = LAUNCHER_EXTRAS[launcher]
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ParamError(f"{item}: needs {plugin}, which is not installed; install it "
                         f"with pip install -e \".[{extra}]\"")


def check_launcher(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """A sweep's launcher settings that would fail only once runs are sent out: a Ray
    cluster given by address (hydra-ray-launcher) runs its tasks in the cluster's own
    working directory, so the sweep's directory must be absolute (on a directory the
    workers share). Raises ParamError."""
    launcher = OmegaConf.select(cfg, "hydra.launcher")
    if launcher is None or not str(launcher.get("_target_", "")).endswith(".RayLauncher"):
        return
    if OmegaConf.select(launcher, "ray.init.address") is None:  # Ray started by the sweep
        return
    sweep_dir = str(cfg.hydra.sweep.dir)
    if Path(sweep_dir).is_absolute():
        return
    given = _given(overrides)
    shown = f"hydra.sweep.dir={given['hydra.sweep.dir']}" if "hydra.sweep.dir" in given \
        else f"results_dir={cfg.results_dir}"
    raise ParamError(f"{shown}: must be an absolute path on a Ray cluster (its workers do "
                     "not run in this directory; give a directory they share, e.g. "
                     "results_dir=$PWD/results)")


# -- what the config files themselves say ---------------------------------------------------
def config_files(cfg: DictConfig, config_name: str = CONFIG_NAME) -> list[tuple[str, Path]]:
    """The config files a composed config (with its ``hydra`` node) was made of: the primary
    config and the chosen file of each group of ``GROUPS`` and ``experiment``, as
    (``<group>/<option>.yaml`` or the primary's name, path), found along the search path
    as Hydra finds them (the first directory that has the file)."""
    dirs = [Path(str(s.path).removeprefix("file://")) for s in cfg.hydra.runtime.config_sources
            if s.schema == "file"]
    choices = cfg.hydra.runtime.choices
    wanted = [f"{config_name}.yaml"] + [f"{g}/{choices[g]}.yaml" for g in (*GROUPS, "experiment")
                                        if choices.get(g) is not None]
    found = []
    for name in wanted:
        path = next((d / name for d in dirs if (d / name).is_file()), None)
        if path is not None:
            found.append((name, path))
    return found


def _package(name: str, text: str) -> str:
    """The dotted prefix of a config file's keys: its ``# @package`` header, else its group."""
    header = re.search(r"^# *@package +(\S+)", text, re.MULTILINE)
    group = name.rpartition("/")[0]
    package = header.group(1) if header else "_group_"
    package = package.replace("_group_", group.replace("/", "."))
    return "" if package == "_global_" else package.replace("_global_.", "")


class _NotBool(str):
    """A YAML 1.1 boolean other than true or false (``yes``, ``on``, ``No``), as written."""


class _StrictBoolLoader(yaml.SafeLoader):
    """YAML as Hydra reads it, but keeping ``yes``/``no``/``on``/``off`` as written."""


_StrictBoolLoader.add_constructor(
    "tag:yaml.org,2002:bool", lambda loader, node: node.value.lower() == "true"
    if node.value.lower() in ("true", "false") else _NotBool(node.value))


def check_config_files(cfg: DictConfig, config_name: str = CONFIG_NAME) -> None:
    """What composing lets through inside a config file: a boolean written as anything but
    true or false (``review_call: 2`` or ``yes`` reads as true), also in an experiment's
    sweep (``hydra.sweeper.params``). Raises ParamError naming the file, the key and the
    value."""
    parser = OverridesParser.create()
    for name, path in config_files(cfg, config_name):
        text = path.read_text()
        data = yaml.load(text, Loader=_StrictBoolLoader) or {}
        if not isinstance(data, dict):
            continue
        package = _package(name, text)
        for key, value in _leaves({k: v for k, v in data.items() if k != "defaults"}, package):
            if key.startswith("hydra."):
                continue
            if _lookup(key)[2] is bool and not (
                    isinstance(value, bool) or type(value) is str and "${" in value):
                shown = str(value) if isinstance(value, _NotBool) else _fmt(value)
                raise ParamError(f"{name}: {key}={shown}: must be true or false")
        sweep = OmegaConf.select(OmegaConf.create(data), "hydra.sweeper.params") \
            if not package else None
        for key, value in (sweep or {}).items():
            item = f"{key}={value}"
            if _lookup(str(key))[2] is bool:
                try:
                    _check_bool(parser.parse_overrides([item])[0], item)
                except ParamError as err:
                    raise ParamError(f"{name}: hydra.sweeper.params: {err}") from err


def _leaves(data: dict, prefix: str):
    """(dotted key, value) of every leaf of a nested config dict; dotted keys in the file
    (``policy.price_change: 0.3``) count as nested."""
    for key, value in data.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            yield from _leaves(value, full)
        else:
            yield full, value


def check_sweeper_jobs(cfgs: list[DictConfig]) -> None:
    """A sweeper plugin that makes jobs of its own (``sim.sensitivity.sweeper``: sample
    designs, a policy search) checks them here, before anything runs, through its static
    ``check_jobs(sweeper_cfg, cfgs)`` (raises ParamError); ``cfgs`` are the jobs of
    ``hydra.sweeper.params`` and the command line."""
    from hydra.utils import get_class
    sweeper = OmegaConf.select(cfgs[0], "hydra.sweeper")
    target = OmegaConf.select(cfgs[0], "hydra.sweeper._target_")
    if sweeper is None or not target:
        return
    check = getattr(get_class(target), "check_jobs", None)
    if check is not None:
        check(sweeper, cfgs)


def check_overrides(overrides: Sequence[str]) -> None:
    """Mistakes of the command line itself, which composing would let through: an override
    without a key (``=5``), a key or config group given twice (the last would win silently),
    a boolean written as anything but true or false (OmegaConf takes ``2`` or ``yes`` for
    true). Raises ParamError (or Hydra's OverrideParseException for what is not an
    override)."""
    parser = OverridesParser.create()
    seen: dict[tuple[str, str | None], str] = {}
    for item in overrides:
        override = parser.parse_overrides([item])[0]
        key = override.key_or_group
        if not key:
            raise ParamError(f"{item}: no key before '='; write key=value")
        if (key, override.package) in seen:
            raise ParamError(f"{item}: {key} is given twice ({seen[key, override.package]} "
                             f"and {item}); give each key once")
        seen[key, override.package] = item
        if key == "hydra/launcher" and not override.is_delete():
            check_launcher_installed(item, override.value())
        if override.package is None:
            _check_group_or_delete(override, item, key)
            if _lookup(key)[2] is bool:
                _check_bool(override, item)


def _check_group_or_delete(override: Override, item: str, key: str) -> None:
    """``+policy=x`` (a group of the defaults list added again: Hydra takes it silently when
    x is already the choice, and else talks of 'Multiple values'), ``~policy`` (every run
    needs a policy: removing it ran the schema's defaults) and ``~key`` for a parameter
    (every parameter has a value: removing one ran its default or failed obscurely)."""
    groups = (*GROUPS, "experiment")
    if (override.is_add() or override.is_force_add()) and key in groups:
        value = item.partition("=")[2]
        raise ParamError(f"{item}: {key} is a config group of the defaults list "
                         f"(configs/config.yaml); choose one with {key}={value}, without '+'")
    if not override.is_delete() or key == "experiment":  # ~experiment: no study (the default)
        return
    if key in GROUPS:
        raise ParamError(f"{item}: cannot remove the {key} config group (every run needs "
                         f"one); choose one with {key}=<name>, one of "
                         + ", ".join(_group_options(key)))
    if _lookup(key)[1] is not None:
        raise ParamError(f"{item}: cannot remove a parameter (every parameter has a value); "
                         f"set it with {key}=<value>, {allowed(key)}")


def _check_bool(override: Override, item: str) -> None:
    if override.is_delete():
        return
    value = override.value()
    if override.is_sweep_override() and not isinstance(value, ChoiceSweep):  # range(), ...
        raise ParamError(f"{item}: must be true or false")
    for v in value.list if isinstance(value, ChoiceSweep) else [value]:
        if not (isinstance(v, bool) or isinstance(v, str) and "${" in v):  # or ${...}
            raise ParamError(f"{item}: must be true or false")


def check_name(key: str, value: Any) -> None:
    """A value that names a directory (``NAME_KEYS``): no path separator, no ``..``, not
    empty, not longer than a file name may safely be."""
    if not (isinstance(value, str) and SAFE_NAME.fullmatch(value)):
        raise ParamError(f"{key}={_short(value)}: must be {NAME_RULE}")


def _short(value: Any, keep: int = 40) -> str:
    """A value as an error line shows it: a very long one cut, with its length."""
    text = _fmt(value)
    if len(text) <= keep + 20:
        return text
    cut = _fmt(value[:keep]) if isinstance(value, str) else text[:keep]
    return f"{cut}... ({len(value) if isinstance(value, str) else len(text)} characters)"


def check_run_keys(cfg: DictConfig, overrides: Sequence[str] = ()) -> None:
    """The run-level keys of a composed config: no top-level key outside ``RunConfig`` (a
    ``+key=value`` gets past Hydra's struct check), the study a safe directory name, the
    results directory not empty (it would be the filesystem's root). Raises ParamError."""
    given = _given(overrides)
    names = {f.name for f in dataclasses.fields(RunConfig)} | {"hydra"}
    for key in cfg:
        if key not in names:
            raise ParamError(unknown_key_message(key, given.get(key, _fmt(cfg[key]))))
    check_name("study", cfg.study)
    for key in SWEEPER_KEYS:
        if key in given:
            raise ParamError(f"{key}={given[key]}: set by the sample-design sweepers only "
                             "(hydra/sweeper=cxsim_morris and the like)")
    for pair in cfg.comparisons:
        if len(pair) != 2 or not all(isinstance(n, str) and n for n in pair):
            raise ParamError(f"comparisons: {_fmt(list(pair))}: must be " + allowed("comparisons"))
    if not isinstance(cfg.results_dir, str) or not cfg.results_dir.strip():
        raise ParamError(f"results_dir={_fmt(cfg.results_dir)}: must be "
                         + allowed("results_dir"))


def _compose_each(config_name: str, jobs: list[list[str]]) -> list[DictConfig]:
    """Every job's config. Composing costs Hydra about a tenth of a second per job, so jobs
    that differ only by ``seed`` (replications) are composed once and the seed is set on a
    copy: the same config, as ``seed`` is a plain top-level integer that nothing in the
    config files refers to (a bad value still fails, as OmegaConf checks the type)."""
    composed: dict[tuple[str, ...], DictConfig] = {}
    cfgs = []
    for job in jobs:
        seeds = [o for o in job if o.partition("=")[0] == "seed"]
        rest = tuple(o for o in job if o not in seeds)
        if len(seeds) == 1 and rest in composed:
            cfg = composed[rest].copy()
            cfg.seed = yaml.safe_load(seeds[0].partition("=")[2])
        else:
            cfg = hydra_compose(config_name, overrides=job, return_hydra_config=True)
            composed.setdefault(rest, cfg)
        cfgs.append(cfg)
    return cfgs


def sweep_jobs(loader: ConfigLoader, config_name: str, overrides: list[str]) -> list[list[str]]:
    """The overrides of every job of a multirun, as Hydra's basic sweeper makes them: the
    sweep of the config (``hydra.sweeper.params``, set by experiments) then the command
    line's own, which win."""
    sweep_cfg = loader.load_configuration(config_name, overrides, run_mode=RunMode.MULTIRUN)
    params = OmegaConf.select(sweep_cfg, "hydra.sweeper.params") or {}
    arguments = [f"{k}={v}" for k, v in params.items()] + overrides
    parsed = OverridesParser.create(loader).parse_overrides(arguments)
    return BasicSweeper.split_arguments(parsed, None)[0]


def params_from_cfg(cfg: DictConfig) -> SimParams:
    """The validated ``SimParams`` of a composed config (run-level keys and ``hydra`` are
    ignored). Raises ParamError naming the key, the value and what is allowed."""
    data = {}
    for f in dataclasses.fields(SimParams):
        if f.name in cfg:
            node = cfg[f.name]
            data[f.name] = OmegaConf.to_container(node, resolve=True) \
                if OmegaConf.is_config(node) else node
    _refuse_unknown(data, SimParams, "")
    params = validate(from_dict(data))
    check_name("policy.name", params.policy.name)
    return params


def _refuse_unknown(data: dict, cls: type, prefix: str) -> None:
    """Keys added with ``+key=value`` get past Hydra's struct check: refuse them here."""
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if key not in hints:
            raise ParamError(unknown_key_message(f"{prefix}{key}", _fmt(value)))
        if dataclasses.is_dataclass(hints[key]) and isinstance(value, dict):
            _refuse_unknown(value, hints[key], f"{prefix}{key}.")


# -- one line per mistake -------------------------------------------------------------------
def _lookup(full_key: str) -> tuple[type | None, dataclasses.Field | None, Any]:
    """(the dataclass holding the key's last part, its field or None, the field's type)."""
    cls: type | None = RunConfig
    parts = full_key.split(".")
    for part in parts[:-1]:
        hint = typing.get_type_hints(cls).get(part) if cls else None
        cls = hint if dataclasses.is_dataclass(hint) else None
    if cls is None:
        return None, None, None
    f = {f.name: f for f in dataclasses.fields(cls)}.get(parts[-1])
    return cls, f, typing.get_type_hints(cls).get(parts[-1])


def allowed(full_key: str) -> str | None:
    """What a key accepts, from the schema's types and the ranges in ``sim.core.params``; None
    for keys outside the schema (``hydra.*``)."""
    _, f, hint = _lookup(full_key)
    if f is None:
        return None
    if full_key in NAME_KEYS:
        return NAME_RULE
    if full_key == "results_dir":
        return "a directory path, not empty"
    if full_key == "comparisons":
        return "a list of [scenario policy, reference policy] pairs of policy names"
    meta = f.metadata
    if meta.get("choices") is not None:
        return "one of " + ", ".join(meta["choices"])
    kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
            list: "a list"}.get(hint, getattr(hint, "__name__", str(hint)))
    rng = range_text(meta)
    return f"{kind} {rng}" if rng else kind


def unknown_key_message(full_key: str, value: str | None) -> str:
    if full_key == "hydra.sweeper.space":  # configs/uncertainty/*.yaml under another sweeper
        return f"{full_key}: an uncertainty space needs a sample-design sweeper: " \
               "hydra/sweeper=cxsim_morris, cxsim_sobol or cxsim_lhs"
    parent, _, name = full_key.rpartition(".")
    cls, _, _ = _lookup(full_key)
    shown = full_key if value is None else f"{full_key}={value}"
    if cls is None:
        return f"{shown}: unknown key"
    names = [f.name for f in dataclasses.fields(cls) if f.name not in SWEEPER_KEYS]
    close = difflib.get_close_matches(name, names, n=1) or [n for n in names if name in n]
    hint = f"did you mean {parent + '.' if parent else ''}{close[0]}? " if close else ""
    return f"{shown}: unknown key; {hint}allowed in {parent or 'the top level'}: " \
           + ", ".join(sorted(names))


def _invalid_value_message(full_key: str, value: str | None, detail: str) -> str:
    shown = full_key if value is None else f"{full_key}={value}"
    what = allowed(full_key)
    return f"{shown}: must be {what}" if what else f"{shown}: {_one_line(detail)}"


def _given(overrides: Sequence[str]) -> dict[str, str]:
    """Command-line overrides as {key: value text}."""
    out = {}
    for item in overrides:
        key, sep, value = item.lstrip("~+").partition("=")
        if sep:
            out[key.partition("@")[0]] = value
    return out


def _cause(err: BaseException | None, kind: type, context: bool = False):
    """The first exception of type ``kind`` along ``err``'s causes (``raise ... from``) and,
    with ``context``, the exceptions being handled when each was raised."""
    while err is not None:
        if isinstance(err, kind):
            return err
        err = err.__cause__ or (err.__context__ if context else None)
    return None


def _one_line(text: str) -> str:
    """Hydra's and OmegaConf's multi-line messages without their diagnostic tails."""
    skip = ("full_key:", "reference_type", "object_type", "Config search path",
            "provider=", "See https://hydra.cc")
    lines = [s.strip() for s in text.splitlines()]
    return " ".join(s for s in lines if s and not s.startswith(skip))


def _missing_config_line(err: MissingConfigException, given: dict[str, str]) -> str:
    group, _, option = (err.missing_cfg_file or "").rpartition("/")
    if not group:
        return f"config {option!r}: no such primary config in {CONFIG_DIR}"
    options = err.options or _group_options(group)
    return f"{group}={given.get(group, option)}: no such {group} config; allowed: " \
           + ", ".join(options)


def _group_options(group: str) -> list[str]:
    return sorted(experiment_files() if group == "experiment" else
                  (p.stem for p in (CONFIG_DIR / group).glob("*.yaml")))


def _unparsable_line(err: OverrideParseException) -> str:
    """An override Hydra's grammar refuses. Its grammar takes only ASCII outside quotes: a
    key=value with other characters gets what the key allows."""
    text = str(err.override)
    key, sep, value = text.lstrip("~+").partition("=")
    key = key.partition("@")[0]
    if sep and not text.isascii() and key.isascii():
        if key in GROUPS or key == "experiment":
            return f"{key}={value}: no such {key} config; allowed: " \
                   + ", ".join(_group_options(key))
        _, f, hint = _lookup(key)
        if key in NAME_KEYS or f is not None and (hint is not str or f.metadata.get("choices")):
            return f"{key}={_short(value)}: must be {allowed(key)}"
        return f"{text}: cannot parse this override (non-ASCII characters must be quoted); " \
               f"write {key}='{value}'"
    return f"{text}: cannot parse this override ({_one_line(err.message)}); write key=value"


def _yaml_error_line(err: yaml.YAMLError, given: dict[str, str]) -> str:
    """A config file that is not valid YAML: the file, the line and what is wrong."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or _one_line(str(err))
    if mark is None:
        return f"a config file is not valid YAML: {problem}"
    path = Path(mark.name)
    chosen = given.get(path.parent.name)
    where = f"{path.parent.name}={chosen}: " if chosen == path.stem else ""
    return f"{where}{path}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML " \
           f"({problem})"


def _interpolation_line(key: str, value: str | None, msg: str) -> str:
    """An interpolation (``${...}``) that cannot be resolved, named by its key."""
    detail = re.sub(r"^\w+ raised while resolving interpolation: ", "", _one_line(msg))
    detail = detail.strip('"')
    shown = key if value is None else f"{key}={value}"
    return f"{shown}: cannot resolve: {detail[:1].lower()}{detail[1:]}"


def error_line(err: BaseException, overrides: Sequence[str] = ()) -> str:
    """One line for a mistake in the configuration: full key, value, what is allowed.

    ``err``: a ParamError, or a Hydra/OmegaConf error raised while composing ``overrides``.
    """
    given = _given(overrides)
    if isinstance(err, ParamError):
        return str(err)
    if isinstance(err, MissingConfigException):
        return _missing_config_line(err, given)
    if isinstance(err, OverrideParseException):
        return _unparsable_line(err)
    broken = _cause(err, yaml.YAMLError, context=True)
    if broken is not None:
        return _yaml_error_line(broken, given)
    cause = _cause(err, OmegaConfBaseException)
    if cause is not None and cause.full_key:
        key = str(cause.full_key)
        if isinstance(cause, InterpolationResolutionError):
            return _interpolation_line(key, given.get(key), cause.msg)
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
            return unknown_key_message(key, given.get(key))
        if isinstance(cause, ValidationError):
            return _invalid_value_message(key, given.get(key, _fmt(cause.value)), cause.msg)
    # an error inside a config file: "In 'policy/x': ...Error raised ... full_key: policy.k"
    text = str(err)
    source = re.match(r"In '([^']+)'", text)
    key = re.search(r"full_key: (\S+)", text)
    if source and key:
        where = f"{source.group(1)}.yaml: "
        if "ConfigKeyError" in text or "ConfigAttributeError" in text:
            return where + unknown_key_message(key.group(1), None)
        value = re.search(r"Value '(.*?)' of type", text)
        return where + _invalid_value_message(key.group(1), value and value.group(1), text)
    return _one_line(text)


# -- from Python ------------------------------------------------------------------------------
def _override_value(value: Any) -> str:
    """A Python value as Hydra's override grammar writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def load(policy: str = "baseline", overrides: Sequence[str] = (), **keys: Any) -> SimParams:
    """The validated ``SimParams`` of a named policy, composed from the same configs and
    with the same checks as ``cxsim-run policy=<policy> [overrides]``; ``sim.load``.

    ``overrides``: command-line style (``"population.size=20000"``); ``keys``: the same as
    keywords, a double underscore for each dot (``population__size=20000``, ``seed=3``,
    ``policy__price_change=0.3``). A mistake raises ParamError with the one line
    ``cxsim-run`` prints (key, value, what is allowed); nothing runs.
    """
    given = [f"policy={policy}", *overrides,
             *(f"{k.replace('__', '.')}={_override_value(v)}" for k, v in keys.items())]
    try:
        [cfg] = compose_jobs(given)
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as err:
        raise ParamError(error_line(err, given)) from err
    return params_from_cfg(cfg)


def policy_edits(params: SimParams, policy: str | None = None,
                 config_dirs: Sequence[Path] = ()) -> list[str] | None:
    """The policy fields (``price_change``, ...; ``name`` too if renamed) in which
    ``params.policy`` differs from its policy file ``policy/<policy>.yaml`` (``policy``:
    the file it was composed from, by default its name), found in ``config_dirs`` then
    ``CONFIG_DIR``; ``[]`` for the policy as its file says, None when there is no such
    file (a policy named by hand)."""
    policy = policy or params.policy.name
    for directory in (*config_dirs, CONFIG_DIR):
        if (Path(directory) / "policy" / f"{policy}.yaml").is_file():
            named = from_dict(policy_params(policy, Path(directory)), PolicyParams, "policy.")
            break
    else:
        return None
    return [f.name for f in dataclasses.fields(PolicyParams)
            if getattr(named, f.name) != getattr(params.policy, f.name)]


def policy_params(name: str, config_dir: Path = CONFIG_DIR) -> dict:
    """The policy group file's own values as a dict of PolicyParams fields, read without
    Hydra (sim.validation.calibration applies them to a SimParams)."""
    path = config_dir / "policy" / f"{name}.yaml"
    if not path.exists():
        raise ParamError(f"policy={name}: no file {path}")
    data = yaml.safe_load(path.read_text()) or {}
    return {k: v for k, v in data.items() if k != "defaults"}
