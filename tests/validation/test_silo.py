"""The simulated silo (``sim.validation.silo_sim.simulate_silo``: the model's FCFS kernel
and persistent server heap fed Erlang's assumptions) agrees with queueing theory
(``sim.validation.analytic``); it is reproducible and refuses bad input."""

import math

import pytest

from sim.validation import analytic as A
from sim.validation.silo_sim import simulate_silo


TOL = 0.05  # relative agreement demanded of the simulation (the criterion)


def days_for(lam, calls, open_hours):
    return math.ceil(calls / (lam * 60 * open_hours))


# (name, staff, rho, patience minutes or None, open hours, calls simulated); handling 5 min
SILO_CASES = [
    ("erlang C light", 5, 0.5, None, 10.0, 4_000_000),
    ("erlang C heavy", 10, 0.9, None, 24.0, 8_000_000),
    ("erlang A below capacity", 10, 0.8, 10.0, 10.0, 4_000_000),
    ("erlang A at capacity", 10, 1.0, 10.0, 24.0, 4_000_000),
    ("erlang A overload", 10, 1.3, 10.0, 10.0, 4_000_000),
]


@pytest.fixture(scope="module")
def silo_runs():
    runs = {}
    for name, c, rho, patience, hours, calls in SILO_CASES:
        lam = rho * c / 5.0
        ref = A.erlang_c(lam, 5.0, c) if patience is None else \
            A.erlang_a(lam, 5.0, c, patience)
        sim = simulate_silo(lam, 5.0, c, patience, days=days_for(lam, calls, hours),
                            open_hours=hours, seed=2024, warmup_days=2)
        runs[name] = (ref, sim, patience)
    return runs


@pytest.mark.parametrize("name", [case[0] for case in SILO_CASES])
def test_silo_agrees_with_erlang(silo_runs, name):
    ref, sim, patience = silo_runs[name]
    keys = ["p_wait", "mean_wait"] + ([] if patience is None else ["p_abandon"])
    for key in keys:
        rel_se = sim[f"{key}_se"] / ref[key]
        # the test can fail: its sampling error is far inside the tolerance
        assert rel_se < TOL / 3, f"{name} {key}: SE {rel_se:.2%} too large to test"
        assert sim[key] == pytest.approx(ref[key], rel=TOL), f"{name} {key}"
    if patience is None:
        assert sim["p_abandon"] == 0.0


@pytest.mark.parametrize("name", [c[0] for c in SILO_CASES if c[3] is not None])
def test_silo_abandonment_identity(silo_runs, name):
    _, sim, patience = silo_runs[name]
    assert sim["p_abandon"] == pytest.approx(sim["mean_wait"] / patience, rel=TOL)


def test_silo_same_seed_same_result_different_seed_different():
    kw = dict(arrival_rate=1.8, handle_minutes=5.0, staff=10, patience_minutes=10.0, days=20,
              open_hours=10.0)
    a = simulate_silo(seed=7, **kw)
    b = simulate_silo(seed=7, **kw)
    c = simulate_silo(seed=8, **kw)
    assert a == b
    assert a["calls"] != c["calls"] and a["mean_wait"] != c["mean_wait"]


@pytest.mark.parametrize("kw", [dict(arrival_rate=0.0), dict(handle_minutes=-1.0),
                                dict(staff=0), dict(staff=2.5), dict(patience_minutes=0.0),
                                dict(days=1), dict(open_hours=25.0), dict(seed=-1),
                                dict(warmup_days=-1), dict(batches=1)])
def test_silo_rejects_bad_input(kw):
    args = dict(arrival_rate=1.0, handle_minutes=1.0, staff=2, days=4) | kw
    with pytest.raises(ValueError):
        simulate_silo(**args)
