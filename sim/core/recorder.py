"""What a run records: the daily metrics, the sampled customers' journeys, the hold times
and the summary (``sim.core.metrics`` names them all).

The model calls ``Recorder.collect`` at the end of every day; the kernels count the day
into one vector of named slots (``sim.core.metrics.COUNTS``), read here by name.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.core import kernels as K
from sim.core import layout as L
from sim.core import metrics as M
from sim.core import queue as Q

if TYPE_CHECKING:
    from sim.core.model import LoyaltyModel

HOLD_HIST_MAX_MINUTES = 7 * 24 * 60  # hold-time histogram: 1-minute bins up to a week


class Recorder:
    """The daily metrics (``rows``), journeys and hold histogram of one model."""

    def __init__(self, model: "LoyaltyModel") -> None:
        self.model = model
        self.counts = np.zeros(M.N_COUNTS)  # today's slots (sim.core.metrics.C_*)
        # leavers and active customers by products held, day by day (4 + 4 values): the
        # summary's retention by products, over the run and over its last year
        self.tier_days: list[np.ndarray] = []
        self.hold_hist = np.zeros(HOLD_HIST_MAX_MINUTES + 1, np.int64)
        self.hold_sum = 0.0
        self.rows: list[dict] = []
        self.journey_idx = np.zeros(0, np.int64)  # chosen on day 0 (sample_journeys)
        self._journey: list[tuple] = []

    def sample_journeys(self) -> np.ndarray:
        """The customers whose events are logged: the first ``population.journey_sample``
        customers of the book on day 0 (after the warm start), in slot order."""
        m = self.model
        active = np.flatnonzero(m.I[L.I_ACTIVE, :m.n] == 1)
        self.journey_idx = active[:min(m.params.population.journey_sample, active.size)]
        return self.journey_idx

    # -- every day ---------------------------------------------------------------------------
    def collect(self, day: int) -> None:
        """Count the day (events of the stamped customers, every active customer's state,
        the silos' calls) into one row of daily metrics, and log the sampled journeys."""
        m = self.model
        if m.burning_in:
            return
        b, costs = m.params.behaviour, m.params.costs
        c = self.counts
        K._today_counts(m.I, m._touched, c)  # = K._day_sums, in two faster passes
        K._state_sums(m.F, m.I, m.n, b.nps_promoter_attitude, b.nps_detractor_attitude, c)
        self.tier_days.append(np.concatenate((
            c[M.C_CHURNED_1_PRODUCTS:M.C_CHURNED_4_PRODUCTS + 1],
            c[M.C_ACTIVE_1_PRODUCTS:M.C_ACTIVE_4_PRODUCTS + 1])))
        served = np.concatenate([silo.served_idx for silo in m.silos])
        calls = served.size
        backlog = sum(silo.backlog for silo in m.silos)
        h, abandoned, callbacks, broken = K._calls_today(
            m.F, m.I, served, m.params.policy.promise == "fixed", self.hold_hist,
            HOLD_HIST_MAX_MINUTES)
        held = h.size
        self.hold_sum += float(h.sum())
        active = c[M.C_ACTIVE]
        revenue = c[M.C_PREMIUM] / 365.0
        claims = c[M.C_RISK_COST] / 365.0
        service = sum(silo.cost_today() for silo in m.silos) \
            + c[M.C_CONTACTS_SELF_SERVICE] * costs.self_service_cost \
            + m.n_reps * m.params.reps.cost_per_day \
            + m.acquired_today * costs.acquisition_cost
        if m.params.policy.listening:
            service += active * costs.listening_cost_per_customer_year / 365.0

        def count(name: str) -> int:
            return int(c[M.COUNTS.index(name)])

        row = {
            "day": day, "active": int(active), "active_products": count("active_products"),
            "acquired": m.acquired_today, "churned": count("churned"),
            **{f"churned_{r}": count(f"churned_{r}") for r in M.REASONS},
            "products_lost": count("products_lost"),
            "revenue": revenue, "cost_claims": claims, "cost_service": service,
            "cost": claims + service, "profit": revenue - claims - service,
            "contacts_self_service": count("contacts_self_service"), "contacts_phone": calls,
            "contacts_rep": count("contacts_rep"), "calls": calls,
            "company_calls": sum(silo.company_calls for silo in m.silos), "abandoned": abandoned,
            "abandonment_rate": abandoned / calls if calls else 0.0,
            "callbacks": callbacks, "callbacks_waiting": count("callbacks_waiting"),
            "hold_minutes_mean": float(h.mean()) if held else 0.0,
            "hold_minutes_p90": float(np.quantile(h, 0.9)) if held else 0.0,
            "hold_minutes_max": float(h.max()) if held else 0.0,
            "broken_promises": broken, "backlog": backlog,
            "issues_opened": count("issues_opened"),
            "issues_resolved": count("issues_resolved"),
            "issues_unresolved": count("issues_unresolved"), "renewals": count("renewals"),
            "price_rises": count("price_rises"),
            "unfair_share": c[M.C_UNFAIR_LAST] / active if active else 0.0,
            "attitude_mean": c[M.C_ATTITUDE] / active if active else 0.0,
            "nps": 100.0 * (c[M.C_PROMOTERS] - c[M.C_DETRACTORS]) / active if active else 0.0,
        }
        self.rows.append(row)
        self._log_journeys(day)

    def _log_journeys(self, day: int) -> None:
        idx = self.journey_idx
        if idx.size == 0:
            return
        m = self.model
        K._settle_idx(m.F, m.I, idx, day)  # their today's rows, read as they stand
        F, I = m.F[:, idx], m.I[:, idx]
        fixed = m.params.policy.promise == "fixed"
        call, hold, told = I[L.I_T_CALL], F[L.F_T_HOLD], F[L.F_T_ANNOUNCED]
        held = (call == Q.SERVED) | (call == Q.ABANDONED)
        booked = call == Q.CALLBACK  # (its time is known when booked: the queue's)
        waited = np.where(booked, F[L.F_CALLBACK_WAIT], hold)
        events = (
            ("price_change", (I[L.I_T_RENEWAL] == 1) & (F[L.F_T_PRICE_CHANGE] != 0),
             F[L.F_T_PRICE_CHANGE]),
            ("judged_unfair", I[L.I_T_UNFAIR] == L.UNFAIR_YES, F[L.F_T_PRICE_CHANGE]),
            ("issue", I[L.I_T_ISSUE_NEW] != L.ISSUE_NONE, I[L.I_ISSUE_SILO]),
            ("self_service", I[L.I_T_SS] != L.SS_NONE, I[L.I_T_SS]),
            ("rep_contact", I[L.I_T_REP] != L.REP_NONE,
             np.maximum(I[L.I_T_REP] - L.REP_HELPED, 0)),  # 0 helped, 1 handed off, 2 ignored
            ("transfer", I[L.I_T_REP] == L.REP_HANDED_OFF, I[L.I_ISSUE_EFFORT]),
            ("call", call == Q.SERVED, hold),
            ("abandoned", (call == Q.ABANDONED) | (call == Q.BALKED), hold),
            ("callback", call == Q.CALLBACK, F[L.F_CALLBACK_WAIT]),
            ("callback_gave_up", (call == Q.CALLBACK_GAVE_UP) | (
                (call == Q.CALLBACK) & (I[L.I_CALLBACK_GAVE_UP] == 1)
                & (I[L.I_CALLBACK_DAY] == -1)), F[L.F_CALLBACK_WAIT]),
            ("promise_broken", (held | booked) & (waited > told) & fixed, waited - told),
            ("resolved", I[L.I_T_CLOSED] == L.CLOSED_RESOLVED, I[L.I_ISSUE_EFFORT]),
            ("unresolved", I[L.I_T_CLOSED] == L.CLOSED_UNRESOLVED, I[L.I_ISSUE_EFFORT]),
            ("outreach", I[L.I_T_OUTREACH] != L.OUTREACH_NONE, I[L.I_T_OUTREACH]),
            ("churned", I[L.I_T_CHURN] == 1, I[L.I_REASON]),
            ("saved", I[L.I_T_SAVED] == 1,
             np.full(idx.size, m.params.policy.retention_discount)),
        )
        for name, mask, value in events:
            hit = np.flatnonzero(mask)
            if hit.size:
                self._journey.append((idx[hit], day, name, np.asarray(value, float)[hit]))

    # -- results -----------------------------------------------------------------------------
    def timeseries(self) -> dict[str, np.ndarray]:
        """One array per daily metric (``sim.core.metrics.DAILY_COLUMNS``), one per day."""
        out = {}
        for col in M.DAILY_COLUMNS:
            values = [r[col] for r in self.rows]
            out[col] = np.asarray(values, dtype=np.int64 if isinstance(
                values[0] if values else 0, (int, np.integer)) else np.float64)
        return out

    def journeys(self) -> dict[str, np.ndarray]:
        """The sampled customers' events: columns customer, day, event, value."""
        if not self._journey:
            return {"customer": np.zeros(0, np.int64), "day": np.zeros(0, np.int32),
                    "event": np.zeros(0, dtype=object), "value": np.zeros(0)}
        cust = np.concatenate([e[0] for e in self._journey]).astype(np.int64)
        day = np.concatenate([np.full(e[0].size, e[1], np.int32) for e in self._journey])
        event = np.concatenate([np.full(e[0].size, e[2], dtype=object) for e in self._journey])
        value = np.concatenate([e[3] for e in self._journey])
        order = np.lexsort((cust, day))
        return {"customer": cust[order], "day": day[order], "event": event[order],
                "value": value[order]}

    def hold_distribution(self) -> np.ndarray:
        """Calls that held, by whole minutes on hold (last bin: a week or more)."""
        return self.hold_hist.copy()

    def summary(self) -> dict:
        """The run in numbers: customers, churn and retention, revenue, cost and profit (by
        year, and their NPV), customer equity, holds, abandonment, unfair judgments,
        attitude and NPS. Money is in the premiums' currency; ``days`` is the horizon.

        Profit by year: ``profit_year1``, ``profit_year2``, ... one key per whole year of
        the horizon (days 0-364, 365-729, ...; a horizon shorter than a year has only
        ``profit_year1``, over all its days; the days after the last whole year are in
        ``profit`` and ``npv_profit`` only). Undiscounted.

        Customer equity (Gupta, Lehmann & Stuart 2004, JMR 41:7, "Valuing customers"), the
        value of the book at day 0 with the company's own policy:

            customer_equity = npv_profit + future_value
            future_value = (1 + i)^(-H) x sum over customers active at the end of
                           (m_j - s) r_j / (1 + i - r_j)

        - ``npv_profit``: every day's profit over the horizon (revenue - claims - service,
          acquisition included) discounted to day 0 at ``market.discount_rate_annual`` i.
        - ``future_value`` (second term): the customers still active at the end valued with
          the CLV formula (``sim.validation.analytic.clv``: the margin of each further year
          received at its end if the customer stayed that year, constant margin and
          retention) and discounted from the end of the horizon (H = days / 365 years) to
          day 0. Only the customers on the books at the end: customers won after the horizon
          (and their acquisition cost) are not valued. Their future margin is today's margin
          held constant (no cost trend or future price changes); customers who have
          already decided to leave at their next renewal are valued like the rest (the
          last year's retention counts such exits on average). 0 when no customer is active.
        - m_j: the customer's annual premium minus their expected annual claims cost at the
          end (``F_PREMIUM - F_RISK_COST``); ``margin_active_end`` is their sum over the
          active customers (currency a year, before service costs).
        - s: ``service_cost_per_customer_year``, the run's service cost per customer-year
          over its last year (staff, self-service, reps, listening: the daily
          ``cost_service`` without acquisition costs, which buy new customers, divided by
          the customer-years of that year): the policy's cost of serving a customer goes
          on with them. The same for every customer (service cost is not tracked per
          customer).
        - r_j: annual retention of the customer's tier (products held) over the run's last
          year (the last 365 recorded days, or every day of a shorter run):
          ``retention_annual_last_year_by_products`` = exp(-leavers / customer-years) of
          the tier, from the recorder's daily tallies by products held (``tier_days``,
          kept by ``collect`` from the kernels' day counts, the same counts that make
          ``retention_annual_by_products`` over the whole run). The
          last year rather than the whole run, because a policy changes retention over time.
          A tier that lost nobody in that year has r = 1 (its value m / i; infinite if
          i = 0). ``retention_annual_last_year``: all tiers together.
        """
        m = self.model
        ts = self.timeseries()
        days = len(self.rows)
        discount = m.params.market.discount_rate_annual
        # each day's factor by the C library's pow, not numpy's: numpy picks a SIMD power
        # by the CPU (AVX-512 or not) that can differ in the last bit, and the summary must
        # be the same on every machine (tests/core/test_baselines.py)
        disc = np.array([math.pow(1.0 + discount, -float(d) / 365.0) for d in ts["day"]])
        exposure_years = ts["active"].sum() / 365.0
        churned = int(ts["churned"].sum())
        booked = m.customers_start + int(ts["acquired"].sum())  # customers ever on the books
        held = int(self.hold_hist.sum())
        year1 = ts["day"] < 365

        def hold_quantile(q: float) -> float:
            if held == 0:
                return 0.0
            return float(np.searchsorted(np.cumsum(self.hold_hist), q * held))

        calls = int(ts["calls"].sum())
        npv = float((ts["profit"] * disc).sum())
        # customer equity: the active customers' margins, valued at the last year's retention
        tier_retention, retention_last = last_year_retention(self.tier_days)
        last = ts["day"] > ts["day"][-1] - 365 if days else ts["day"] >= 0
        service = ts["cost_service"][last] \
            - ts["acquired"][last] * m.params.costs.acquisition_cost
        service_years = ts["active"][last].sum() / 365.0
        service_per_year = float(service.sum() / service_years) if service_years \
            else float("nan")
        active = np.flatnonzero(m.I[L.I_ACTIVE, :m.n] == 1)
        margin = m.F[L.F_PREMIUM, active] - m.F[L.F_RISK_COST, active]
        retention = np.where(np.isnan(tier_retention), retention_last, tier_retention)[
            m.I[L.I_PRODUCTS, active] - 1]
        future = future_value(margin - service_per_year, retention, discount, days / 365.0)
        return {
            "policy": m.params.policy.name, "seed": m.seed, "days": days,
            "customers_start": m.customers_start,
            "customers_end": int(ts["active"][-1]) if days else m.customers_start,
            "acquired": int(ts["acquired"].sum()),
            "acquisitions_refused": int(m.acquisitions_refused),
            "churned": churned,
            # (NaN without any customer: a warm start can lose every one, and nobody joins)
            "churn_share": churned / booked if booked else float("nan"),
            "retention_annual": math.exp(-churned / exposure_years) if exposure_years else float("nan"),
            "churn_annualised": 1.0 - math.exp(-churned / exposure_years) if exposure_years else float("nan"),
            "retention_annual_by_products": {  # over the whole run
                str(p + 1): float(r) for p, r in enumerate(
                    last_year_retention(self.tier_days, days=len(self.tier_days))[0])},
            "retention_annual_last_year": retention_last,
            "retention_annual_last_year_by_products": {
                str(p + 1): float(r) for p, r in enumerate(tier_retention)},
            "churn_by_reason": {r: int(ts[f"churned_{r}"].sum()) for r in M.REASONS},
            "products_lost": int(ts["products_lost"].sum()),
            "revenue": float(ts["revenue"].sum()),
            "revenue_year1": float(ts["revenue"][year1].sum()),
            "cost": float(ts["cost"].sum()),
            "profit": float(ts["profit"].sum()),
            **profit_by_year(ts["day"], ts["profit"]),
            "npv_profit": npv,
            "customer_equity": npv + future,
            "future_value": future,
            "margin_active_end": float(margin.sum()),
            "service_cost_per_customer_year": service_per_year,
            "calls": calls,
            "hold_minutes_mean": self.hold_sum / held if held else 0.0,
            "hold_minutes_p90": hold_quantile(0.9),
            "hold_minutes_max": float(ts["hold_minutes_max"].max()) if days else 0.0,
            "abandonment_rate": float(ts["abandoned"].sum() / calls) if calls else 0.0,
            "broken_promises": int(ts["broken_promises"].sum()),
            "unfair_share_end": float(ts["unfair_share"][-1]) if days else 0.0,
            "attitude_mean_end": float(ts["attitude_mean"][-1]) if days else 0.0,
            "nps_mean": float(ts["nps"].mean()) if days else 0.0,
        }


# -- the summary's helpers ------------------------------------------------------------------
def annual_retention(churn: float, exposure_days: float) -> float:
    """Annual retention exp(-leavers / customer-years) from leavers and customer-days; NaN
    when there is no exposure."""
    return math.exp(-churn / (exposure_days / 365.0)) if exposure_days > 0 else float("nan")


def last_year_retention(tier_days, days: int = 365) -> tuple[np.ndarray, float]:
    """Annual retention over the last ``days`` recorded days from the daily tallies by
    products held (rows: 4 leavers, then 4 active customers, by 1-4 products; a shorter
    run: all its days): by products held (4 values, NaN for a tier with no customer-day)
    and all tiers together."""
    rows = np.asarray(tier_days[-days:] if len(tier_days) else np.zeros((0, 8)), dtype=float)
    churn, exposure = rows[:, :4].sum(axis=0), rows[:, 4:].sum(axis=0)
    return (np.array([annual_retention(c, e) for c, e in zip(churn, exposure)]),
            annual_retention(churn.sum(), exposure.sum()))


def profit_by_year(day, profit) -> dict[str, float]:
    """``profit_year1``, ``profit_year2``, ...: the profit of days 0-364, 365-729, ...
    for every whole year of the days given (at least year one, over every day of a run
    shorter than a year)."""
    day, profit = np.asarray(day), np.asarray(profit, dtype=float)
    years = max(1, (int(day.max()) + 1) // 365 if day.size else 1)
    return {f"profit_year{y + 1}": float(profit[(day >= 365 * y) & (day < 365 * (y + 1))].sum())
            for y in range(years)}


def future_value(margin, retention, discount: float, years: float) -> float:
    """Value at day 0 of customers active ``years`` years later: sum over them of their
    CLV m r / (1 + i - r) (Gupta, Lehmann & Stuart 2004; ``sim.validation.analytic.clv``)
    with annual margin ``margin`` m (currency a year) and annual retention ``retention`` r
    (arrays, one value per customer, or r broadcast), discounted by (1 + i)^(-years) at the
    annual rate ``discount`` i. 0 for no customer; infinite for r = 1 with i = 0 (NaN
    when such customers' margins have both signs: inf - inf)."""
    m = np.asarray(margin, dtype=float)
    if m.size == 0:
        return 0.0
    r = np.broadcast_to(np.asarray(retention, dtype=float), m.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        clv = m * r / (1.0 + discount - r)
        return float(clv.sum() * (1.0 + discount) ** (-years))
