"""The queue kernel (``sim.core.queue``): its FCFS service and persistent server heap,
run through the isolated silo of ``sim.validation.silo_sim``, against a plain-Python
re-implementation on the same random draws; a backlog carries over days; the outcome codes."""

import heapq
import math

import numpy as np
import pytest

from sim.core import queue as Q
from sim.core import rng as R
from sim.validation.silo_sim import simulate_silo


def reference_silo(lam, h, c, patience, days, open_hours, seed):
    """Plain-Python silo on the same draws: per-day totals (calls, waited, abandoned, hold)."""
    day_minutes = 60.0 * open_hours
    heap = [0.0] * c
    totals = []
    for day in range(days):
        end, t, j, arrivals = (day + 1) * day_minutes, day * day_minutes, 0, []
        while True:
            t += R.exponential_py(seed, R.SILO_ALONE, j, day, 0, 1.0 / lam)
            if t >= end:
                break
            arrivals.append(t)
            j += 1
        waited = abandoned = 0
        hold = 0.0
        for j, a in enumerate(arrivals):
            handle = R.exponential_py(seed, R.SILO_ALONE, j, day, 1, h)
            pat = math.inf if patience is None else \
                R.exponential_py(seed, R.SILO_ALONE, j, day, 2, patience)
            w = max(0.0, heap[0] - a)
            if w > pat:
                abandoned += 1
                waited += 1
                hold += pat
            else:
                waited += w > 0.0
                hold += w
                heapq.heapreplace(heap, a + w + handle)
        totals.append((len(arrivals), waited, abandoned, hold))
    return totals


@pytest.mark.parametrize("patience,open_hours", [(None, 8.0), (4.0, 24.0)])
def test_silo_equals_plain_python_reference(patience, open_hours):
    lam, h, c, days, seed = 1.05, 2.0, 2, 6, 3  # overloaded at times: a backlog carries over
    ref = reference_silo(lam, h, c, patience, days, open_hours, seed)
    sim = simulate_silo(lam, h, c, patience, days=days, open_hours=open_hours, seed=seed,
                        warmup_days=0, batches=days)
    calls = sum(t[0] for t in ref)
    assert sim["calls"] == calls
    assert sim["p_wait"] == sum(t[1] for t in ref) / calls
    assert sim["p_abandon"] == sum(t[2] for t in ref) / calls
    assert sim["mean_wait"] == pytest.approx(sum(t[3] for t in ref) / calls, rel=1e-12)
    per_day = np.array([t[1] / t[0] for t in ref])
    assert sim["p_wait_se"] == pytest.approx(per_day.std(ddof=1) / math.sqrt(days), rel=1e-9)


def test_silo_backlog_carries_over_days():
    # overloaded, no abandonment: the queue grows from one day to the next, so day 2 waits
    # are longer than day 1 waits only if the heap persists
    one = simulate_silo(1.2, 1.0, 1, None, days=2, open_hours=1.0, warmup_days=0, batches=2)
    assert one["backlog_end"] == 1
    both = simulate_silo(1.2, 1.0, 1, None, days=4, open_hours=1.0, warmup_days=0, batches=4)
    late = simulate_silo(1.2, 1.0, 1, None, days=2, open_hours=1.0, warmup_days=2, batches=2)
    assert late["mean_wait"] > both["mean_wait"] > one["mean_wait"]


def test_queue_outcome_codes_used_by_the_silo():
    # simulate_silo counts abandonment by the kernel's code; if the codes move, this fails
    assert (Q.SERVED, Q.ABANDONED) == (0, 1)


def test_a_callback_given_up_on_takes_no_agent():
    """One agent busy until minute 100. A caller at 0 hears the honest 100 minutes and books a
    callback; the caller at 1 holds. If the first gave up waiting (patience 10 < 100), the
    agent is free for the second at 100; if they wait, the second waits for their call too."""
    def second_wait(callback_patience):
        free_at = np.array([100.0])
        outcome, hold, told, start = Q.serve(
            arrival=[0.0, 1.0], handle=[30.0, 5.0], patience=[np.inf, np.inf],
            accepts_callback=[True, False], free_at=free_at, announce_mode=Q.ANNOUNCE_HONEST,
            callback_offered=True, callback_min_wait=5.0, callback_patience=callback_patience)
        assert outcome[0] == Q.CALLBACK and outcome[1] == Q.SERVED
        assert start[0] == 100.0  # when the callback comes (or would have)
        return hold[1], free_at[0]
    assert second_wait([10.0, np.inf]) == (99.0, 105.0)
    assert second_wait([500.0, np.inf]) == (129.0, 135.0)
    assert second_wait(None) == (129.0, 135.0)  # default: nobody gives up
