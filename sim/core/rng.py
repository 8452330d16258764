"""Counter-based random streams: a draw is a pure function of (seed, stream, entity, day, k).

No state is carried between draws, so results do not depend on the order in which customers
are processed or on the number of threads, and two policies run with the same seed give every
customer the same luck (common random numbers). The mixer is SplitMix64's finaliser
(Steele, Lea & Flood 2014), applied once per key word; it passes BigCrush as a hash of a counter.

``uniform`` is compiled with numba; ``uniform_py`` is the same function in plain Python
integers, used by the reference implementation and to test the compiled one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# One stream per kind of decision: a new decision gets a new number, old ones never move.
ISSUE = 1          # does a service issue arise today
ISSUE_SILO = 2     # which silo the issue belongs to
CHANNEL = 3        # self-service, phone or rep
SELF_SERVICE = 4   # resolved in self-service
ARRIVAL = 5        # minute of the day the call arrives
HANDLE = 6         # handling time
PATIENCE = 7       # caller patience
RESOLVE = 8        # resolved on this contact
RETRY = 9          # contact again
CHURN = 10         # leave today
FAIRNESS = 11      # judge a price change unfair
PRICE_QUERY = 12   # call billing after a price change
MOVE = 13          # move region at renewal
REP = 14           # rep helps, hands off or ignores
OUTREACH = 15      # outreach contact and its relevance
RETENTION = 16     # saved by a retention offer
CALLBACK = 17      # accepts a callback
INIT = 18          # initial population
NETWORK = 19       # social ties
ACQUIRE = 20       # new customers
SILO_ALONE = 21    # silo simulated in isolation (validation)
COMPANY = 22       # the company's callers beyond the simulated ones (the silos' queue)
COMPANY_NEW = 23   # ... those of them calling about an issue opened by chance today

_M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _mix(x):
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_C1)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_C2)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, inline="always")
def uniform(seed, stream, entity, day, k):
    """A uniform draw in (0, 1) for the key (seed, stream, entity, day, k); all int64 >= 0,
    and k < 256 (day and k share one key word: ``day << 8 | k``), so one decision may use
    at most 256 numbers per entity and day."""
    x = _mix(np.uint64(seed) + np.uint64(_GOLDEN))
    x = _mix(x ^ (np.uint64(stream) * np.uint64(_GOLDEN)))
    x = _mix(x ^ np.uint64(entity))
    x = _mix(x ^ ((np.uint64(day) << np.uint64(8)) | np.uint64(k)))
    return (np.float64(x >> np.uint64(11)) + 0.5) * _INV53


def _mix_py(x: int) -> int:
    x = ((x ^ (x >> 30)) * _C1) & _M64
    x = ((x ^ (x >> 27)) * _C2) & _M64
    return x ^ (x >> 31)


BURN_IN = 0xB0B5EED  # key of the warm start's root seed


def burn_in_seed(seed: int) -> int:
    """The root seed of the warm start's daily draws (``SimParams.burn_in_years``): a mix of
    ``seed``, so the burn-in's luck is the same for every policy run with ``seed`` but never
    reuses a draw of the recorded days (those use ``seed`` itself)."""
    return _mix_py(_mix_py((seed + _GOLDEN) & _M64) ^ BURN_IN) >> 1  # in [0, 2**63)


def uniform_py(seed: int, stream: int, entity: int, day: int, k: int) -> float:
    """Plain-Python twin of :func:`uniform` (bit-identical)."""
    x = _mix_py((seed + _GOLDEN) & _M64)
    x = _mix_py(x ^ ((stream * _GOLDEN) & _M64))
    x = _mix_py(x ^ entity)
    x = _mix_py(x ^ (((day << 8) | k) & _M64))
    return (float(x >> 11) + 0.5) * _INV53


@njit(cache=True, inline="always")
def exponential(seed, stream, entity, day, k, mean):
    return -mean * math.log(uniform(seed, stream, entity, day, k))


def exponential_py(seed, stream, entity, day, k, mean):
    return -mean * math.log(uniform_py(seed, stream, entity, day, k))


@njit(cache=True, inline="always")
def normal(seed, stream, entity, day, k):
    """Standard normal by Box-Muller from draws k and k+1."""
    u1 = uniform(seed, stream, entity, day, k)
    u2 = uniform(seed, stream, entity, day, k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def normal_py(seed, stream, entity, day, k):
    u1 = uniform_py(seed, stream, entity, day, k)
    u2 = uniform_py(seed, stream, entity, day, k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def poisson(seed, stream, entity, day, k, mean):
    """Poisson count by inversion (draw k); for the modest means the model uses."""
    u = uniform(seed, stream, entity, day, k)
    if mean > 500.0:  # normal approximation for very large means
        z = normal(seed, stream, entity, day, k + 1)
        return max(0, int(math.floor(mean + math.sqrt(mean) * z + 0.5)))
    pmf = math.exp(-mean)
    cdf = pmf
    n = 0
    while u > cdf and n < 100000:
        n += 1
        pmf *= mean / n
        cdf += pmf
    return n
