"""A service silo as a first-come-first-served queue with c servers and impatient callers.

Time runs in *business minutes*: day d of a silo open H hours covers [60*H*d, 60*H*(d+1)).
The servers' next-free times persist from one day to the next, so a backlog carries over:
callers who arrive when every agent is committed past closing are served the next day
(the model caps each caller's patience at the time left until closing, so in the model only
callbacks are served on a later day: ``sim.core.kernels._silo_day``).

For each caller in arrival order, the wait they would get if they stay is exactly
``w = max(0, earliest free server - arrival)``, because under FCFS only callers ahead of them
(already processed) occupy servers, and callers who abandon never take one. This recursion
is exact for the G/G/c+G queue, so fed Poisson arrivals and exponential handling and patience
it reproduces Erlang C and Erlang A (see ``sim.validation.analytic``, ``sim.validation.silo_sim``
and ``sim.validation.queueing_checks``).

What callers are told:
- ``ANNOUNCE_NONE``: nothing; a caller holds until served or until patience runs out.
- ``ANNOUNCE_FIXED``: a capped promise: the real wait up to the promise, and "about <promise>"
  whatever the real wait beyond it (the airline that promised "only" 2 hours).
- ``ANNOUNCE_HONEST``: the wait they will actually get.
A caller told a wait longer than ``callback_min_wait`` takes a callback if one is offered and
they accept it (they keep their place in the virtual queue and are called back when it is
their turn, which may be a later business day). The company offers a callback only when it
can make it within ``callback_max_wait``; past that, callers hold (or, told the wait, hang
up). Otherwise a caller told a wait longer than their patience hangs up at once. A caller
who gives up waiting for their callback before it comes (``callback_patience``) leaves the
virtual queue as an abandoned caller leaves the line: the callback takes no agent's time.

Only numpy and numba are imported here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

ANNOUNCE_NONE = 0
ANNOUNCE_FIXED = 1
ANNOUNCE_HONEST = 2

SERVED = 0       # held, then served
ABANDONED = 1    # held until patience ran out, then hung up
BALKED = 2       # told a wait longer than their patience and hung up at once
CALLBACK = 3     # told a long wait, accepted a callback (the callback itself: next two)
CALLED_BACK = 4  # the callback came (on the day of the call or a later one)
CALLBACK_GAVE_UP = 5  # gave up waiting for the callback (and may call again)


@njit(cache=True, inline="always")
def _sift_down(heap, n, i):
    x = heap[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] < x:
            heap[i] = heap[child]
            i = child
        else:
            break
    heap[i] = x


@njit(cache=True)
def heapify(heap):
    """Make ``heap`` (server next-free times) a binary min-heap in place."""
    n = heap.shape[0]
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(heap, n, i)


@njit(cache=True, inline="always")
def _on_shift(t, day_minutes, offset):
    """The earliest time >= ``t`` within a part-time shift that starts ``offset`` minutes
    into each business day of ``day_minutes`` and runs to its closing."""
    start = math.floor(t / day_minutes) * day_minutes + offset
    return t if t >= start else start


@njit(cache=True)
def _serve_fcfs(arrival, handle, patience, accepts_callback, callback_patience,
                announce_mode, promised, callback_offered, callback_min_wait,
                callback_max_wait, free_at, part, out_outcome, out_hold, out_announced,
                out_start):
    """Serve one batch of callers, in order, against servers ``free_at`` (a min-heap) and
    a part-time agent ``part``.

    Shapes: arrival, handle, patience (float64, minutes; patience may be inf),
    accepts_callback (bool), callback_patience (float64, business minutes a caller waits
    for a callback before giving up; may be inf) are (n,) and sorted by arrival; free_at
    is (c,), c >= 1, a
    min-heap updated in place (``inf``: an agent never on duty). ``part`` (3,): the
    part-time agent's next-free time (``inf``: none; updated in place), the business
    day's length, and the minute of each business day their shift starts (they work to
    closing: a fractional staff). A callback is offered when the announced wait exceeds
    ``callback_min_wait`` and the real one is at most ``callback_max_wait`` (the company
    offers only callbacks it can make by then); a callback that would come after the
    caller gave up (wait > callback_patience) takes no agent. Writes out_outcome (int8),
    out_hold (minutes on hold), out_announced (the wait announced, -1 if none) and out_start
    (business minute the service starts, or a callback would have come; -1 if never) for
    each caller.
    """
    n = arrival.shape[0]
    c = free_at.shape[0]
    for k in range(n):
        a = arrival[k]
        w = free_at[0] - a
        if w < 0.0:
            w = 0.0
        by_part = False
        if part[0] < np.inf:
            w_part = _on_shift(part[0] if part[0] > a else a, part[1], part[2]) - a
            if w_part < w:
                w, by_part = w_part, True
        if announce_mode == ANNOUNCE_FIXED:
            told = w if w < promised else promised
        elif announce_mode == ANNOUNCE_HONEST:
            told = w
        else:
            told = -1.0
        out_announced[k] = told
        if callback_offered and told > callback_min_wait and w <= callback_max_wait \
                and accepts_callback[k]:
            out_outcome[k] = CALLBACK
            out_hold[k] = 0.0
            if w > callback_patience[k]:  # gave up first: the callback takes no agent
                out_start[k] = a + w
                continue
        elif told > patience[k]:
            out_outcome[k] = BALKED
            out_hold[k] = 0.0
            out_start[k] = -1.0
            continue
        elif w > patience[k]:
            out_outcome[k] = ABANDONED
            out_hold[k] = patience[k]
            out_start[k] = -1.0
            continue
        else:
            out_outcome[k] = SERVED
            out_hold[k] = w
        out_start[k] = a + w
        if by_part:
            part[0] = a + w + handle[k]
        else:
            free_at[0] = a + w + handle[k]
            _sift_down(free_at, c, 0)


def no_part_time() -> np.ndarray:
    """``_serve_fcfs``'s ``part`` for a silo of whole agents only."""
    return np.array([np.inf, 1.0, 0.0])


def resize_servers(free_at: np.ndarray, staff: int, now: float) -> np.ndarray:
    """Servers for a new staffing level: departing agents finish their calls first.

    Keeps the ``staff`` earliest-free servers (never-on-duty ``inf`` entries dropped); new
    servers are free from ``now``. Always at least one server (``ServiceSilo`` adds a
    part-time agent for fractional staff, and stands in ``inf`` for none).
    """
    staff = max(1, int(staff))
    times = np.sort(free_at[np.isfinite(free_at)])
    if staff <= times.size:
        out = times[:staff].copy()
    else:
        out = np.concatenate([times, np.full(staff - times.size, now)])
    out = np.maximum(out, now)
    heapify(out)
    return out


def serve(arrival, handle, patience, accepts_callback, free_at, announce_mode=ANNOUNCE_NONE,
          promised=-1.0, callback_offered=False, callback_min_wait=0.0,
          callback_max_wait=np.inf, part=None, callback_patience=None):
    """Validate and allocate in Python, serve in the kernel; returns (outcome, hold,
    announced, start) arrays. ``free_at`` (and ``part``, default none) are updated in
    place; ``callback_patience`` default: nobody gives up on a callback."""
    arrival = np.ascontiguousarray(arrival, dtype=np.float64)
    n = arrival.shape[0]
    if n > 1 and np.any(np.diff(arrival) < 0):
        raise ValueError("arrival times must be sorted")
    if free_at.shape[0] < 1:
        raise ValueError("a silo needs at least one server")
    outcome = np.empty(n, np.int8)
    hold = np.empty(n, np.float64)
    announced = np.empty(n, np.float64)
    start = np.empty(n, np.float64)
    _serve_fcfs(arrival, np.ascontiguousarray(handle, dtype=np.float64),
                np.ascontiguousarray(patience, dtype=np.float64),
                np.ascontiguousarray(accepts_callback, dtype=np.bool_),
                np.full(n, np.inf) if callback_patience is None
                else np.ascontiguousarray(callback_patience, dtype=np.float64),
                int(announce_mode), float(promised), bool(callback_offered),
                float(callback_min_wait), float(callback_max_wait), free_at,
                no_part_time() if part is None else part, outcome, hold, announced, start)
    return outcome, hold, announced, start
