"""Warm starts shared between runs.

The warm start (``SimParams.burn_in_years``) simulates years before day 0 under the
baseline policy, on draws of its own, in the first slots only (``LoyaltyModel``): nothing of
the run's policy or horizon reaches it. Runs that differ only in those (a study's policies
on one seed, a horizon sweep) start from the same state, so it is simulated once and
reused: ``key`` names a warm start by everything it depends on, ``WarmStarts`` keeps the
latest ones in memory. A restored warm start gives bit-identical runs (``tests/core``).
``sim.runs.warm`` adds a store on disk, shared by a sweep's worker processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict

import numba
import numpy as np

from sim.core.fingerprint import MODEL_CODE
from sim.core.params import PolicyParams, SimParams

# memory the in-process store may hold (the state of about a million customer slots;
# older warm starts are dropped first). Not a model parameter: it changes no result.
MEMORY_BYTES = 256 * 2**20


def key(params: SimParams, decisions: str) -> str:
    """SHA-256 of what a warm start depends on: every parameter but the policy and the
    horizon, the seed, the decisions' code path, the model code and the versions of the
    libraries that compute it."""
    base = dataclasses.replace(params, policy=PolicyParams(), horizon_days=1)
    text = "\0".join((repr(base), decisions, MODEL_CODE, np.__version__, numba.__version__))
    return hashlib.sha256(text.encode()).hexdigest()


def nbytes(state: dict[str, np.ndarray]) -> int:
    return sum(a.nbytes for a in state.values())


class WarmStarts:
    """The latest warm starts in memory (``get``/``put`` by ``key``), at most
    ``max_bytes`` of them. A state is a dict of arrays (``LoyaltyModel._warm_state``); what
    ``get`` returns is the caller's to read, never to change."""

    def __init__(self, max_bytes: int = MEMORY_BYTES) -> None:
        self.max_bytes = max_bytes
        self._states: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state

    def put(self, key: str, state: dict[str, np.ndarray]) -> None:
        if nbytes(state) > self.max_bytes:
            return
        self._states[key] = state
        self._states.move_to_end(key)
        while sum(nbytes(s) for s in self._states.values()) > self.max_bytes:
            self._states.popitem(last=False)

    def clear(self) -> None:
        self._states.clear()


MEMORY = WarmStarts()  # the process's store: LoyaltyModel's default
