"""``sim.load``: a named policy's parameters from Python, composed and validated as
``cxsim-run`` does it; ``sim.policy_edits``: whether a policy is what its file says
(issue 13)."""

from __future__ import annotations

import pytest

import sim
from sim.core.params import ParamError, SimParams
from sim.runs.config import compose, policy_params


def test_load_composes_a_named_policy_as_cxsim_run_does():
    params = sim.load("silent_hike", population__size=500, seed=3)
    assert params == sim.runs.config.params_from_cfg(
        compose(["policy=silent_hike", "population.size=500", "seed=3"]))
    assert params.policy.name == "silent_hike" and params.population.size == 500
    for key, value in policy_params("silent_hike").items():
        assert getattr(params.policy, key) == value
    assert params.policy != SimParams().policy
    assert sim.load("silent_hike", overrides=["population.size=500", "seed=3"]) == params


def test_load_takes_python_values_of_every_kind():
    params = sim.load("baseline", policy__explanation="cost", policy__review_call=True,
                      population__product_mix=[0.4, 0.3, 0.2, 0.1], policy__price_change=0.25)
    assert params.policy.explanation == "cost" and params.policy.review_call is True
    assert params.population.product_mix == [0.4, 0.3, 0.2, 0.1]
    assert params.policy.price_change == 0.25


@pytest.mark.parametrize("args,keys,line", [
    (("silent_hike",), {"population__size": -1}, "population.size=-1: must be in [1, 50000000]"),
    (("silent_hike",), {"policy__rebate": 1}, "policy.rebate=1: unknown key; "),
    (("silent_hike",), {"policy__review_call": 2}, "policy.review_call=2: must be true or false"),
    (("nonexistent",), {}, "policy=nonexistent: no such policy config; allowed: baseline, "),
    (("baseline", ["population.size=abc"]), {},
     "population.size=abc: must be an integer in [1, 50000000]"),
])
def test_load_refuses_bad_input_with_the_line_cxsim_run_prints(args, keys, line):
    with pytest.raises(ParamError) as caught:
        sim.load(*args, **keys)
    assert str(caught.value).startswith(line) and "\n" not in str(caught.value)


def test_an_edited_policy_says_so():
    assert sim.policy_edits(sim.load("silent_hike")) == []
    assert sim.policy_edits(sim.load("silent_hike", policy__price_change=0.3,
                                     policy__explanation="cost")) == ["price_change",
                                                                      "explanation"]
    hand_made = SimParams()  # the README's old example: a hike on the baseline's name
    hand_made.policy.price_change = 0.6
    assert sim.policy_edits(hand_made) == ["price_change"]
    renamed = sim.load("silent_hike", policy__name="my_hike")
    assert sim.policy_edits(renamed) is None  # no file of that name
    assert sim.policy_edits(renamed, "silent_hike") == ["name"]
