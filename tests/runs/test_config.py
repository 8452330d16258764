"""Configs and policies: the YAML files against the schema, every policy composing to a
run directory of its own name, and ranges that leave a bound out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from sim.runs import io as sim_io
from sim.runs.cli import check, run
from sim.runs.config import CONFIG_DIR, GROUPS, RUN_KEYS, RunConfig, compose, params_from_cfg
from sim.core.params import ParamError, PolicyParams, SimParams, validate
from tests.helpers import POLICIES, SMALL, cxsim_run, small_params


def raw_yaml(path: Path) -> dict:
    """A config file's own values, as a plain YAML reader sees them (no schema filling in)."""
    data = yaml.safe_load(path.read_text()) or {}
    data.pop("defaults", None)
    return data


# -- the YAML files ------------------------------------------------------------------------
@pytest.mark.parametrize("group", sorted(set(GROUPS) - {"policy"}))
def test_group_defaults_spell_out_every_dataclass_default(group):
    schema = GROUPS[group]
    assert raw_yaml(CONFIG_DIR / group / "default.yaml") == dataclasses.asdict(schema())


def test_baseline_policy_spells_out_the_policy_defaults():
    assert raw_yaml(CONFIG_DIR / "policy" / "baseline.yaml") == \
        dataclasses.asdict(PolicyParams())


def test_primary_config_matches_the_schema_and_composes_to_the_defaults():
    top = raw_yaml(CONFIG_DIR / "config.yaml")
    defaults = RunConfig()
    for key in ("horizon_days", "seed", *RUN_KEYS):
        assert top[key] == getattr(defaults, key), key
    assert params_from_cfg(compose()) == SimParams()


@pytest.mark.parametrize("name", POLICIES)
def test_policy_file_names_itself_and_says_what_it_represents(name):
    path = CONFIG_DIR / "policy" / f"{name}.yaml"
    assert raw_yaml(path)["name"] == name
    assert path.read_text().startswith(f"# {name}: ")
    policy = params_from_cfg(compose([f"policy={name}"])).policy
    changed = {k for k, v in dataclasses.asdict(policy).items()
               if v != getattr(PolicyParams(), k)} - {"name"}
    assert (name == "baseline") == (not changed), changed


# -- every policy runs ---------------------------------------------------------------------
@pytest.mark.parametrize("name", POLICIES)
def test_every_policy_composes_and_runs(name, tmp_path):
    cfg = compose([f"policy={name}", *SMALL], return_hydra_config=True)
    params = params_from_cfg(cfg)
    assert params.policy.name == name and params.population.size == 400
    run_dir = run(params, tmp_path / cfg.hydra.run.dir)
    assert Path(cfg.hydra.run.dir) == Path("results", "runs", name, sim_io.config_hash(params))
    assert sim_io.is_complete(run_dir)
    ts = sim_io.read_timeseries(run_dir)
    assert ts.num_rows == params.horizon_days
    assert set(ts.column("policy").to_pylist()) == {name}
    assert ts.column("active").to_numpy()[0] > 0


def test_policy_name_must_be_safe_for_a_directory():
    with pytest.raises(ParamError, match=r"policy\.name='\.\./x'"):
        small_params("policy.name=../x")


# -- bounds that are not allowed themselves (issue 18: a premium of zero) --------------------
# The lines cxsim-run printed for the three smallest crashing configurations of issue 18
# (`cxsim-run population.size=1000 policy.price_cap=-1` and the like), copied as printed.
OPEN_BOUNDS = [
    ("policy.price_cap=-1", "cxsim-run: policy.price_cap=-1: must be in (-1, 100]"),
    ("policy.price_change=-1", "cxsim-run: policy.price_change=-1: must be in (-1, 100]"),
    ("policy.retention_discount=1",
     "cxsim-run: policy.retention_discount=1: must be in [0, 1)"),
    ("policy.price_cap=cheap",
     "cxsim-run: policy.price_cap=cheap: must be a number in (-1, 100]"),
]


@pytest.mark.parametrize("override,line", OPEN_BOUNDS)
def test_a_bound_left_out_of_the_range_stops_with_one_line(override, line, capsys):
    with pytest.raises(SystemExit) as stop:
        check(["population.size=1000", override, "horizon_days=730"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == line + "\n"


def test_price_cap_of_minus_one_stops_cxsim_run_before_any_run(tmp_path):
    result = cxsim_run("population.size=1000", "policy.price_cap=-1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == OPEN_BOUNDS[0][1] + "\n"
    assert not (tmp_path / "results").exists()  # no run directory, not even a part of one


@pytest.mark.parametrize("key,value", [("price_cap", -0.999), ("price_change", -0.999),
                                       ("retention_discount", 0.999)])
def test_values_just_inside_an_open_bound_are_allowed(key, value):
    params = small_params(f"policy.{key}={value}")
    assert getattr(params.policy, key) == value


def test_open_bounds_in_the_python_api_name_key_value_and_range():
    p = SimParams()
    p.policy.retention_discount = 1.0
    with pytest.raises(ParamError, match=r"^policy\.retention_discount=1: must be in \[0, 1\)$"):
        validate(p)
