"""The warm start is the same under every policy, and one restored from a store gives the
runs a fresh one gives, bit for bit (sim.core.warm, sim.runs.warm)."""

import numpy as np
import pytest

from sim.core import kernels as K
from sim.core import warm
from sim.core.model import LoyaltyModel
from sim.runs.warm import DiskWarmStarts
from tests.helpers import make

SIZE, DAYS, SEED = 600, 90, 11
# policies that need different numbers of slots (reps who sell more win more customers)
POLICIES = ({}, {"rep_new_sales_per_year": 40.0},
            {"price_change": 0.6, "price_target": "all", "staffing_factor": 0.5})


def params(**policy):
    return make(size=SIZE, days=DAYS, seed=SEED, burn_in_years=1, **policy)


def same_model(a: LoyaltyModel, b: LoyaltyModel) -> None:
    assert (a.n, a.t_day, a.day, a.acquisitions_refused) == (b.n, b.t_day, b.day,
                                                              b.acquisitions_refused)
    assert np.array_equal(a.F, b.F) and np.array_equal(a.I, b.I)
    assert a.reputation == b.reputation
    for x, y in zip(a.silos, b.silos):
        assert np.array_equal(x.free_at, y.free_at) and np.array_equal(x.part, y.part)
        assert (x.staff, x.backlog) == (y.staff, y.backlog)


def test_the_warm_start_does_not_depend_on_the_policy():
    """Day 0 finds the same customers in the same state whatever the policy, even when the
    policy needs more slots for the customers it wins."""
    models = [LoyaltyModel(params(**p), warm_starts=None) for p in POLICIES]
    assert len({m.capacity for m in models}) > 1
    first = models[0]
    for m in models[1:]:
        n = first.n
        assert m.n == n
        assert np.array_equal(first.F[:, :n], m.F[:, :n])
        assert np.array_equal(first.I[:, :n], m.I[:, :n])


def test_ties_among_the_first_slots_do_not_depend_on_how_many_slots_follow():
    rng = np.random.default_rng(0)
    region = rng.integers(0, 4, 3000).astype(np.int64)

    def edges(slots, upto):
        indptr, nbr, fam, _ = K._build_ties(7, slots, 1000, region[:slots], 6.0, 0.7, 2.4, 4)
        out = set()
        for i in range(upto):
            for e in range(indptr[i], indptr[i + 1]):
                if nbr[e] < upto:
                    out.add((i, int(nbr[e]), int(fam[e])))
        return out

    small = edges(1500, 1500)
    assert len(small) > 3000
    assert edges(3000, 1500) == small


@pytest.mark.parametrize("policy", POLICIES, ids=["baseline", "more_sales", "hike_cut"])
def test_a_restored_warm_start_gives_the_same_run(policy):
    store = warm.WarmStarts()
    LoyaltyModel(params(), warm_starts=store)  # another policy simulates the warm start
    assert len(store._states) == 1
    fresh = LoyaltyModel(params(**policy), warm_starts=None)
    restored = LoyaltyModel(params(**policy), warm_starts=store)
    same_model(fresh, restored)
    fresh.run(), restored.run()
    same_model(fresh, restored)
    assert fresh.summary() == restored.summary()
    a, b = fresh.timeseries(), restored.timeseries()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert fresh.journeys().keys() == restored.journeys().keys()
    assert all(np.array_equal(fresh.journeys()[k], restored.journeys()[k])
               for k in fresh.journeys())


def test_the_key_names_everything_but_policy_and_horizon():
    base = params()
    k = warm.key(base, "kernel")
    assert warm.key(params(price_change=0.6), "kernel") == k
    longer = params()
    longer.horizon_days = 400
    assert warm.key(longer, "kernel") == k
    assert warm.key(base, "reference") != k
    other_seed, other_behaviour, other_burn = params(), params(), params()
    other_seed.seed += 1
    other_behaviour.behaviour.wom_weight *= 1.5
    other_burn.burn_in_years = 2
    for p in (other_seed, other_behaviour, other_burn):
        assert warm.key(p, "kernel") != k


def test_the_disk_store_is_read_by_another_process_and_a_damaged_file_is_simulated_again(
        tmp_path):
    first = DiskWarmStarts(tmp_path)
    made = LoyaltyModel(params(), warm_starts=first)
    (path,) = tmp_path.glob("*.npz")
    second = DiskWarmStarts(tmp_path)  # as a new process finds it: nothing in memory
    assert second.get(path.stem) is not None
    same_model(made, LoyaltyModel(params(), warm_starts=second))
    path.write_bytes(path.read_bytes()[:100])  # cut short
    third = DiskWarmStarts(tmp_path)
    assert third.get(path.stem) is None and not path.exists()
    same_model(made, LoyaltyModel(params(), warm_starts=third))  # simulated and kept again
    assert path.exists()


def test_the_memory_store_keeps_at_most_its_bytes():
    store = warm.WarmStarts(max_bytes=1000)
    store.put("a", {"x": np.zeros(100)})  # 800 bytes
    store.put("b", {"x": np.zeros(100)})
    assert store.get("a") is None and store.get("b") is not None
    store.put("c", {"x": np.zeros(200)})  # too big: not kept
    assert store.get("c") is None and store.get("b") is not None
