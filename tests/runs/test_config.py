"""Configs and policies: the YAML files against the schema, and every policy composing to a
run directory of its own name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from sim.runs import io as sim_io
from sim.runs.cli import run
from sim.runs.config import CONFIG_DIR, GROUPS, RUN_KEYS, RunConfig, compose, params_from_cfg
from sim.core.params import ParamError, PolicyParams, SimParams
from tests.helpers import POLICIES, SMALL, small_params


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
