"""The Mesa agents: customers, service silos and sales reps (``sim.core.model`` schedules them).

Customers' state lives in the model's arrays ``F`` and ``I`` (rows named in
``sim.core.layout``): a ``Customer`` is a thin named view of one column, so the kernels can
sweep every customer at once while the readable reference (``sim.core.reference``) works
through the agents. A ``ServiceSilo`` is a phone queue with its staff and the agents'
next-free times; a ``SalesRep`` has a book of customers and limited time for service issues.
"""

from __future__ import annotations

import gc
import itertools
import weakref
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core import kernels as K
from sim.core import layout as L
from sim.core import queue as Q

if TYPE_CHECKING:
    from sim.core.model import LoyaltyModel


class _IdsByModel(weakref.WeakKeyDictionary):
    """Each model's counter of agents' unique ids (from 1), as Mesa's ``Agent._ids``, but
    held by weak reference: Mesa 3.3's class-level defaultdict keeps every model ever
    made alive (mesa/mesa#3179, fixed after 3.3), 15 MB a 10,000-customer run, which grew
    a sweep worker until joblib's loky restarted it as leaking."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


class _Agent(mesa.Agent):
    """cxsim's agents: Mesa agents whose unique ids do not keep their model alive."""

    _ids = _IdsByModel()


class Customer(_Agent):
    """One customer (a household holding 1-4 products): a named view of column ``idx``.

    Every name in ``sim.core.layout.F_FIELDS`` and ``I_FIELDS`` is an attribute that reads and
    writes the model's arrays, e.g. ``customer.attitude`` or ``customer.products``.
    """

    def __init__(self, model: "LoyaltyModel", idx: int) -> None:
        super().__init__(model)
        self.idx = idx


def _field(matrix: str, row: int, cast: type) -> property:
    def get(self):
        return cast(getattr(self.model, matrix)[row, self.idx])

    def set(self, value):
        getattr(self.model, matrix)[row, self.idx] = value

    return property(get, set)


def _today_field(matrix: str, row: int, cast: type, nothing: float) -> property:
    """A today's row: reads "nothing happened" (``nothing``) while the customer's stamp
    is stale; a write first brings the customer's today's rows to the model's day."""
    def get(self):
        m = self.model
        if m.I[L.I_TODAY, self.idx] != m.t_day:
            return cast(nothing)
        return cast(getattr(m, matrix)[row, self.idx])

    def set(self, value):
        m = self.model
        if m.I[L.I_TODAY, self.idx] != m.t_day:
            K._settle_idx(m.F, m.I, np.array([self.idx]), m.t_day)
        getattr(m, matrix)[row, self.idx] = value

    return property(get, set)


def _make_customers(model: "LoyaltyModel", start: int, stop: int) -> list[Customer]:
    """Customer agents for slots [start, stop), registered with the model as
    ``Customer(model, i)`` would register each (same unique_ids, same agent sets), but in
    bulk: a million one by one through ``Agent.__init__`` takes seconds."""
    if stop <= start:
        return []
    first = Customer(model, start)  # creates the Customer agent set if needed
    try:
        by_type = model._agents_by_type[Customer]._agents
        every = model._all_agents._agents
        registry = model._agents
        ids = itertools.islice(Customer._ids[model], stop - start - 1)
    except (AttributeError, KeyError):  # another Mesa: the documented way
        return [first] + [Customer(model, i) for i in range(start + 1, stop)]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a million new objects would trigger full collections for nothing
    try:
        new = object.__new__
        out = [first]
        for i, uid in zip(range(start + 1, stop), ids):
            c = new(Customer)
            c.model, c.unique_id, c.pos, c.idx = model, uid, None, i
            out.append(c)
        rest = dict.fromkeys(out[1:])
        registry.update(rest)
        by_type.update(rest)
        every.update(rest)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


for _matrix, _fields, _cast in (("F", L.F_FIELDS, float), ("I", L.I_FIELDS, int)):
    for _row, _name in enumerate(_fields):
        setattr(Customer, _name, _today_field(_matrix, _row, _cast, L.T_NOTHING.get(_name, 0))
                if _name.startswith("t_") else _field(_matrix, _row, _cast))


class ServiceSilo(_Agent):
    """A phone queue (billing, claims, retention): staff, handling, first-contact resolution
    and what callers are told. Its agents' next-free times (a min-heap, business minutes)
    carry their work from one day to the next; callers still holding at closing are cut
    off (``sim.core.kernels._silo_day``)."""

    def __init__(self, model: "LoyaltyModel", index: int, name: str) -> None:
        super().__init__(model)
        self.index, self.name = index, name
        self.cfg = getattr(model.params.silos, name)
        self.open_minutes = 60.0 * self.cfg.open_hours
        self.staff = -1.0  # none yet: the first day staffs the silo
        self.free_at = np.zeros(0)
        self.part = Q.no_part_time()
        self.backlog = 0
        self.company_calls = 0  # calls offered today by the whole company (the sample's too)
        self.served_idx = np.zeros(0, np.int64)

    def staff_for(self, day: int) -> float:
        """Agents on duty on ``day``: staff per 10,000 customers x the company's customers
        (``population.company_size``) x the policy's staffing factor, a real number. The
        whole agents work every open hour; a fraction f is one more agent who works the last
        f of each day (a shift), so a staffing factor cuts staffed hours by exactly its
        share at any size."""
        pol = self.model.policy
        factor = pol.staffing_factor if day >= pol.staffing_from_day else 1.0
        return self.cfg.staff_per_10k * self.model.company_size / 10_000 * factor

    def _restaff(self, staff: float, now: float) -> None:
        """Whole agents and the part-time one for ``staff`` agents from business minute
        ``now``: departing agents finish their calls first, arriving ones start now."""
        whole = int(staff)
        share = staff - whole
        self.free_at = Q.resize_servers(self.free_at, whole, now) if whole > 0 \
            else np.full(1, np.inf)  # no whole agent on duty
        if share > 0.0:
            if not np.isfinite(self.part[0]):
                self.part[0] = now
            self.part[2] = (1.0 - share) * self.open_minutes  # their shift's start
        else:
            self.part[0] = np.inf
        self.part[1] = self.open_minutes
        self.staff = staff

    def serve(self, day: int, callers: np.ndarray | None = None) -> None:
        """Serve today's callers (``callers``: their indices in customer order; found
        here if not given)."""
        staff = self.staff_for(day)
        if staff != self.staff:
            self._restaff(staff, day * self.open_minutes)
        m = self.model
        pol, b = m.policy, m.params.behaviour
        self.served_idx = K._callers(m.I, m.n, self.index, day) if callers is None else callers
        mode = {"none": Q.ANNOUNCE_NONE, "fixed": Q.ANNOUNCE_FIXED,
                "honest": Q.ANNOUNCE_HONEST}[pol.promise]
        self.backlog, self.company_calls = K._silo_day(
            m.F, m.I, self.served_idx, m.day_seed, day, self.free_at, self.part,
            self.open_minutes, b.retry_at_opening_minutes, self.cfg.handle_minutes,
            b.patience_minutes_mean,
            b.position_patience_multiplier if pol.announce_position else 1.0,
            b.captive_share, b.callback_accept, mode, pol.promised_wait_minutes,
            pol.callback, b.callback_min_wait_minutes, pol.callback_max_wait_minutes,
            b.callback_patience_minutes, m.company_size / m.n_initial - 1.0, self.index,
            m.new_callers_expected[self.index])

    def cost_today(self) -> float:
        """The simulated customers' share of the silo's staff cost today."""
        m = self.model
        return self.staff * self.cfg.open_hours * m.params.costs.staff_cost_per_hour \
            * m.n_initial / m.company_size


class SalesRep(_Agent):
    """A sales rep with a book of customers (those whose ``rep`` is this index) and a
    limited number of minutes a day for service issues; helps, hands off or ignores as the
    policy's incentives say (``policy.rep_help``, ``policy.rep_handoff``)."""

    def __init__(self, model: "LoyaltyModel", index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def minutes_left(self) -> float:
        return float(self.model.rep_minutes_left[self.index])

    @property
    def book(self) -> np.ndarray:
        m = self.model
        return np.flatnonzero((m.I[L.I_REP, :m.n] == self.index) & (m.I[L.I_ACTIVE, :m.n] == 1))
