"""Uncertainty and lever spaces: complete, and checked against the parameters' allowed
values before any run (``sim.sensitivity.space``, ``check_jobs`` in cxsim-run's pre-check)."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml

from sim.core.params import ParamError, SimParams
from sim.runs.cli import check
from sim.runs.config import CONFIG_DIR, compose_jobs
from sim.sensitivity.space import POLICY_ASSUMPTIONS, Space, set_values

# not assumptions: sizes and bookkeeping, and lists of shares
NOT_SAMPLED = {"population.size", "population.journey_sample", "population.product_mix",
               "population.new_customer_product_mix", "horizon_days", "burn_in_years", "seed"}


def _keys(cls=SimParams, prefix=""):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _keys(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_every_assumption_has_a_documented_range_within_its_allowed_values():
    path = CONFIG_DIR / "uncertainty" / "assumptions.yaml"
    space = yaml.safe_load(path.read_text())
    wanted = {k for k in _keys() if k not in NOT_SAMPLED
              and (not k.startswith("policy.") or k in POLICY_ASSUMPTIONS)}
    assert set(space) == wanted
    Space.parse(space)  # every range inside its parameter's allowed values
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            comment = line.partition("#")[2]
            assert "assumption" in comment or any(c.isdigit() for c in comment), line


def test_the_silent_hike_space_is_the_twenty_of_the_morris_screen():
    space = yaml.safe_load((CONFIG_DIR / "uncertainty" / "silent_hike.yaml").read_text())
    full = yaml.safe_load((CONFIG_DIR / "uncertainty" / "assumptions.yaml").read_text())
    assert len(space) == 20 and all(space[k] == full[k] for k in space)


@pytest.mark.parametrize("spec, message", [
    ({"behaviour.beta_unfair": [0.0, 30.0]},
     "hydra.sweeper.space.behaviour.beta_unfair=[0, 30]: 30 is outside the allowed values; "
     "the range must lie in [0, 20] (sim/core/params.py)"),
    ({"behaviour.beta_unfair": [2.0, 1.0]},
     "hydra.sweeper.space.behaviour.beta_unfair=[2, 1]: must be a range [low, high] with "
     "low < high"),
    ({"behaviour.beta_unfiar": [0.0, 1.0]}, "hydra.sweeper.space.behaviour.beta_unfiar: not a "
     "parameter; allowed in behaviour: "),
    ({"policy.price_change": [0.0, 1.0]}, "hydra.sweeper.space.policy.price_change=[0, 1]: a "
     "policy lever, not an assumption"),
    ({"behaviour.max_contacts": [1.5, 3]}, "hydra.sweeper.space.behaviour.max_contacts=[1.5, "
     "3]: behaviour.max_contacts is an integer; give integer ends"),
    ({"policy.review_discount": [0.0, 1.5]}, "hydra.sweeper.space.policy.review_discount=[0, "
     "1.5]: 1.5 is outside the allowed values; the range must lie in [0, 1]"),
])
def test_a_bad_space_is_one_line(spec, message):
    with pytest.raises(ParamError) as err:
        Space.parse(spec)
    assert str(err.value).startswith(message)


def test_levers_take_choices_and_booleans():
    s = Space.parse({"policy.explanation": {"choices": ["none", "cost"]},
                     "policy.callback": {"choices": [False, True]},
                     "policy.price_change": [0.0, 0.8]}, allow_policy=True)
    assert [d.kind for d in s.dims] == ["choice", "choice", "float"]
    assert s.values([0.9, 0.2, 0.5]) == {"policy.explanation": "cost", "policy.callback": False,
                                         "policy.price_change": 0.5}
    with pytest.raises(ParamError, match="'maybe' is not allowed; must be one of none, cost"):
        Space.parse({"policy.explanation": {"choices": ["none", "maybe"]}}, allow_policy=True)
    p = set_values(SimParams(), {"policy.explanation": "cost"})
    assert p.policy.explanation == "cost" and SimParams().policy.explanation == "none"


def _bad_config_dir(tmp_path, text):
    (tmp_path / "uncertainty").mkdir()
    (tmp_path / "uncertainty" / "bad.yaml").write_text("# @package hydra.sweeper.space\n" + text)
    return str(tmp_path)


def test_a_range_outside_the_allowed_values_stops_the_sweep_before_any_run(tmp_path, capsys):
    cd = _bad_config_dir(tmp_path, "behaviour.beta_unfair: [0.5, 30]\n")
    with pytest.raises(SystemExit) as exit_:
        check(["-m", "-cd", cd, "hydra/sweeper=cxsim_morris", "uncertainty=bad",
               "policy=baseline,silent_hike", f"results_dir={tmp_path / 'out'}"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "cxsim-run: hydra.sweeper.space.behaviour.beta_unfair=[0.5, 30]: 30 is outside the "
        "allowed values; the range must lie in [0, 20] (sim/core/params.py)\n")
    assert not (tmp_path / "out").exists()


def test_a_point_breaking_a_rule_between_values_stops_the_sweep(tmp_path):
    # the KKT ordering cost <= unexplained fails at some points of these ranges
    cd = _bad_config_dir(tmp_path, "behaviour.unfair_share_cost: [0.2, 0.9]\n"
                                   "behaviour.unfair_share_unexplained: [0.3, 0.8]\n")
    with pytest.raises(ParamError, match=r"^hydra.sweeper.space: point \d+ .* under policy "
                                         "baseline: behaviour.unfair_share_\\*: must follow"):
        compose_jobs(["hydra/sweeper=cxsim_lhs", "uncertainty=bad", "hydra.sweeper.n=20"],
                     multirun=True, config_dir=cd)


def test_an_uncertainty_space_without_a_sample_design_sweeper_is_one_line(capsys):
    with pytest.raises(SystemExit):
        check(["-m", "uncertainty=silent_hike", "policy=baseline"])
    assert capsys.readouterr().err == (
        "cxsim-run: uncertainty/silent_hike.yaml: hydra.sweeper.space: an uncertainty space "
        "needs a sample-design sweeper: hydra/sweeper=cxsim_morris, cxsim_sobol or "
        "cxsim_lhs\n")
