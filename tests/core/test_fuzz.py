"""Fuzzing (issue 18): seeded random configurations drawn over every declared range of
``SimParams``, each run small, none may crash, and every day must keep the model's
invariants.

The configurations are drawn from the schema itself (``sim.core.params``: every field of
every group, its declared range, open bounds, choices, booleans, the product mixes), so a
new parameter is fuzzed as soon as it is declared; one without a range fails
``test_every_declared_parameter_is_drawn``. A numeric draw is one of the range's ends
(the closest value inside an open bound) or, in between, uniform (log-uniform over a range
of several decades). The rules that tie several values together (``validate``) are
repaired after the draw. Each configuration changes a random share of the fields from
their defaults, on 500-1500 customers over 60-400 days, mostly without a warm start.

A failure names the configuration as one ``cxsim-run`` line (every override), so it can be
run again as it is (or ``pytest tests/core/test_fuzz.py -k config017``);
``test_the_cxsim_run_line_composes_to_the_configuration`` holds the line to the
configuration. The 500 runs are marked slow: about 70 s on one numba thread.
"""

from __future__ import annotations

import dataclasses
import math
import random
import typing

import numpy as np
import pytest

from sim.core import layout as L
from sim.core import metrics as M
from sim.core.model import LoyaltyModel
from sim.core.params import SILO_NAMES, SimParams, in_range, validate
from sim.runs.config import compose, params_from_cfg

N_CONFIGS = 500
FUZZ_SEED = 18  # the issue's number; a new seed draws other configurations
END_SHARE = 0.15  # chance of each end of a range (of a changed field)
SIZES, DAYS = (500, 1500), (60, 400)
WARM_START_SHARE = 0.07  # configurations with a warm start of 1 or 2 years
# drawn by the fuzzer's own rules above, not over their declared ranges
OWN_RULES = {"population.size", "population.company_size", "horizon_days", "burn_in_years"}
COMPANY_MAX = 200_000  # the silos' customers: the queue's work grows with them
NOT_PARAMETERS = {"policy.name"}  # a label (the run directory's name)
MAX_CUSTOMERS = 30_000  # slots a configuration may need (acquisition x days): keeps runs small


# -- drawing configurations from the schema -------------------------------------------------
def declared_fields(cls: type = SimParams, prefix: str = ""):
    """(dotted key, field, type) of every leaf parameter of ``cls``, in declaration order."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from declared_fields(hint, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f, hint


def _inside(meta, end: str) -> float:
    """A range's end, or the closest float inside it when that bound is left out."""
    if end == "lo":
        lo = meta["lo"]
        return math.nextafter(lo, math.inf) if meta.get("lo_open") else lo
    hi = meta["hi"]
    return math.nextafter(hi, -math.inf) if meta.get("hi_open") else hi


def _between(rng: random.Random, lo: float, hi: float) -> float:
    """Uniform in [lo, hi], or log-uniform where the range spans several decades above 0."""
    floor = max(lo, hi * 1e-5)
    if lo >= 0 and hi > 0 and hi / floor > 100.0:
        return math.exp(rng.uniform(math.log(floor), math.log(hi)))
    return rng.uniform(lo, hi)


def _mix(rng: random.Random) -> list:
    """Four shares in thousandths summing to 1, some of them zero now and then."""
    weights = [0 if rng.random() < 0.2 else rng.randint(1, 1000) for _ in range(4)]
    if not any(weights):
        weights[rng.randrange(4)] = 1
    ints = [w * 1000 // sum(weights) for w in weights]
    ints[max(range(4), key=lambda k: ints[k])] += 1000 - sum(ints)
    return [k / 1000 for k in ints]


def draw_value(rng: random.Random, key: str, f: dataclasses.Field, hint: type):
    """One value of a declared parameter."""
    meta = f.metadata
    if meta.get("choices") is not None:
        return rng.choice(meta["choices"])
    if hint is bool:
        return rng.random() < 0.5
    if hint is list:
        return _mix(rng)
    if hint not in (int, float) or meta.get("lo") is None or meta.get("hi") is None:
        raise TypeError(f"{key}: no declared range or choices to draw from")
    u = rng.random()
    if u < END_SHARE:
        value = _inside(meta, "lo")
    elif u < 2 * END_SHARE:
        value = _inside(meta, "hi")
    elif hint is int:
        lo, hi = meta["lo"], meta["hi"]
        # day-like counters (-1 or 0 to thousands): log-uniform, so that most fall in a run
        value = min(max(round(_between(rng, max(lo, 1) if lo in (-1, 0) else lo, hi)), lo), hi)
    else:
        value = _between(rng, meta["lo"], meta["hi"])
        rounded = float(f"{value:.6g}")  # a short override; never onto a bound left out
        value = rounded if in_range(rounded, meta) else value
    return int(value) if hint is int else float(value)


def draw_config(k: int) -> dict:
    """Configuration ``k``: {dotted key: value}, a valid configuration (cross-field rules
    repaired), small enough to run in about a second."""
    rng = random.Random(FUZZ_SEED * 1_000_003 + k)
    changed = rng.uniform(0.1, 1.0)  # share of the parameters changed from their default
    config = {"population.size": rng.randint(*SIZES), "horizon_days": rng.randint(*DAYS),
              "burn_in_years": rng.choice((1, 2)) if rng.random() < WARM_START_SHARE else 0}
    config["population.company_size"] = rng.choice(
        (config["population.size"], rng.randint(config["population.size"], COMPANY_MAX)))
    for key, f, hint in declared_fields():
        if key in OWN_RULES or key in NOT_PARAMETERS or rng.random() >= changed:
            continue
        config[key] = draw_value(rng, key, f, hint)
    repair(config, rng)
    return config


def _get(config: dict, key: str):
    if key in config:
        return config[key]
    obj = SimParams()
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def repair(config: dict, rng: random.Random) -> None:
    """The rules of ``validate`` that tie several values together, and the run's size. A
    rule keeps one of its values as drawn (chosen at random) and moves the others, so the
    ends of every range still occur."""
    if _get(config, "policy.price_change_by") == "letter":
        config["policy.price_target"] = "all"
    pair = ["policy.rep_help", "policy.rep_handoff"]
    if _get(config, pair[0]) + _get(config, pair[1]) > 1.0:
        kept = rng.randrange(2)
        config[pair[1 - kept]] = math.floor((1.0 - _get(config, pair[kept])) * 1e6) / 1e6
    shares = [f"behaviour.unfair_share_{m}" for m in ("cost", "unexplained", "lock_in")]
    values = [_get(config, key) for key in shares]
    if values != sorted(values):  # cost <= unexplained <= lock_in around the one kept
        kept = rng.choice([k for k, key in enumerate(shares) if key in config])
        for k in range(kept - 1, -1, -1):
            values[k] = min(values[k], values[k + 1])
        for k in range(kept + 1, 3):
            values[k] = max(values[k], values[k - 1])
        config.update(zip(shares, values))
    if all(_get(config, f"silos.{s}.issue_share") == 0 for s in SILO_NAMES):
        config[f"silos.{rng.choice(SILO_NAMES)}.issue_share"] = rng.uniform(0.01, 1.0)
    # acquisition (market inflow and reps' sales) within MAX_CUSTOMERS slots
    size, days = config["population.size"], config["horizon_days"]
    reps = math.ceil(size / _get(config, "population.rep_book_size"))
    for key, per_year in (("policy.rep_new_sales_per_year", lambda v: reps * v),
                          ("population.acquisition_per_year", lambda v: size * v)):
        allowed = MAX_CUSTOMERS / 2 / ((days + 365 * config["burn_in_years"]) / 365.0)
        if per_year(_get(config, key)) > allowed:
            config[key] = math.floor(allowed / per_year(1.0) * 1e3) / 1e3


def to_params(config: dict) -> SimParams:
    params = SimParams()
    for key, value in config.items():
        *path, name = key.split(".")
        obj = params
        for part in path:
            obj = getattr(obj, part)
        setattr(obj, name, value)
    return validate(params)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ",".join(repr(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def cxsim_run_line(config: dict) -> str:
    return "cxsim-run " + " ".join(f"{key}={_text(value)}" for key, value in config.items())


CONFIGS = [draw_config(k) for k in range(N_CONFIGS)]


# -- what every run must keep ---------------------------------------------------------------
# daily columns that may be negative; every other one counts or costs something
SIGNED = {"profit", "attitude_mean", "nps"}
SHARES = ("abandonment_rate", "unfair_share")
# customers at the start of the day bound the day's events of each (one each at most)
PER_CUSTOMER = ("churned", "renewals", "price_rises", "issues_opened", "contacts_self_service",
                "contacts_rep", "calls")
# summary values that may be NaN or infinite (documented in Recorder.summary): retention
# without exposure, and customer equity at r = 1 with no discount
SUMMARY_NOT_FINITE = {"retention_annual", "churn_annualised", "retention_annual_last_year",
                      "retention_annual_by_products", "retention_annual_last_year_by_products",
                      "service_cost_per_customer_year", "future_value", "customer_equity",
                      "churn_share"}


def run_and_check(params: SimParams) -> list[str]:
    """Run ``params`` day by day; the broken invariants (empty if none)."""
    model = LoyaltyModel(params)
    I, n0 = model.I, model.n
    start = I[L.I_ACTIVE, :n0] == 1
    initial_products = int(I[L.I_PRODUCTS, :n0][start].sum())
    initially_open = int((I[L.I_ISSUE_OPEN, :n0][start] == 1).sum())
    acquired_products = []
    for _ in range(params.horizon_days):
        before = model.n
        model.step()
        acquired_products.append(int(model.I[L.I_PRODUCTS, before:model.n].sum()))
    model.settle()
    ts = model.timeseries()
    bad = []

    def check(ok, what: str) -> None:
        ok = np.asarray(ok)
        if not ok.all():
            days = np.flatnonzero(~ok) if ok.ndim else []
            bad.append(what + (f" (first on day {days[0]})" if len(days) else ""))

    for col in M.DAILY_COLUMNS:
        check(np.isfinite(ts[col]), f"{col} is NaN or infinite")
        if col not in SIGNED:
            check(ts[col] >= 0, f"{col} < 0")
    for col in SHARES:
        check((ts[col] >= 0) & (ts[col] <= 1), f"{col} outside [0, 1]")
    check(np.abs(ts["nps"]) <= 100, "nps outside [-100, 100]")
    active, churned = ts["active"], np.cumsum(ts["churned"])
    check(active + churned == model.customers_start + np.cumsum(ts["acquired"]),
          "customers: active + churned != start + acquired")
    check(ts["active_products"] + np.cumsum(ts["products_lost"])
          == initial_products + np.cumsum(acquired_products),
          "products: active + lost != start + acquired")
    check(sum(ts[f"churned_{r}"] for r in M.REASONS) == ts["churned"],
          "churn by reason does not add up")
    check((active <= ts["active_products"]) & (ts["active_products"] <= 4 * active),
          "products held outside 1-4 per customer")
    at_start = np.concatenate(([model.customers_start], active[:-1]))
    for col in PER_CUSTOMER:
        check(ts[col] <= at_start, f"{col} > customers at the start of the day")
    check(ts["issues_resolved"] + ts["issues_unresolved"] <= at_start, "issues closed > customers")
    check(np.cumsum(ts["issues_resolved"] + ts["issues_unresolved"])
          <= initially_open + np.cumsum(ts["issues_opened"]), "more issues closed than opened")
    check(ts["contacts_phone"] == ts["calls"], "contacts_phone != calls")
    for col in ("abandoned", "callbacks", "broken_promises"):
        check(ts[col] <= ts["calls"], f"{col} > calls")
    check(ts["callbacks_waiting"] <= active, "callbacks_waiting > active")
    # nobody holds past closing (a hold is the time left to closing at most: rounding of
    # the business-minute clock, day x open minutes, allowed)
    longest = 60.0 * max(getattr(params.silos, s).open_hours for s in SILO_NAMES)
    check(ts["hold_minutes_max"] <= longest + 1e-6, "a hold past closing")
    check((ts["hold_minutes_mean"] <= ts["hold_minutes_max"])
          & (ts["hold_minutes_p90"] <= ts["hold_minutes_max"]), "hold mean or p90 > max")
    check(np.isclose(ts["cost"], ts["cost_claims"] + ts["cost_service"], rtol=1e-12, atol=0),
          "cost != claims + service")
    check(np.isclose(ts["profit"], ts["revenue"] - ts["cost"], rtol=1e-9,
                     atol=1e-9 * (ts["revenue"] + ts["cost"])), "profit != revenue - cost")
    live = model.I[L.I_ACTIVE, :model.n] == 1
    F = model.F[:, :model.n][:, live]
    # (the one infinite value: the wait announced, honestly, on a line with nobody on
    # duty; the caller hangs up at once, experiencing no wait)
    announced = F[L.F_T_ANNOUNCED]
    check(np.isfinite(np.delete(F, L.F_T_ANNOUNCED, axis=0)).all()
          and not np.isnan(announced).any() and (announced >= -1).all(),
          "an active customer's state is NaN or infinite")
    check((model.F[L.F_PREMIUM, :model.n][live] >= L.MIN_PREMIUM).all(),
          "a premium below the floor")
    if model.pv[L.P_H_DAY] == 0.0:  # no hazard but at renewals: nobody leaves on other days
        I, n = model.I, model.n
        left = I[L.I_ACTIVE, :n] == 0
        check((I[L.I_DAY_LEFT, :n][left] % 365 == I[L.I_RENEWAL_DOY, :n][left]).all(),
              "a customer left on a day without hazard")
    summary = model.summary()
    for key, value in summary.items():
        if isinstance(value, float) and key not in SUMMARY_NOT_FINITE:
            check(math.isfinite(value), f"summary {key} is {value}")
    model.journeys()
    return bad


# -- the tests ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.usefixtures("one_numba_thread")
@pytest.mark.parametrize("k", range(N_CONFIGS), ids=[f"config{k:03d}" for k in range(N_CONFIGS)])
def test_fuzzed_configuration_runs_and_keeps_the_invariants(k):
    config = CONFIGS[k]
    try:
        bad = run_and_check(to_params(config))
    except Exception as err:  # a crash: name it (and what the kernel raised) and the configuration
        cause = err.__cause__ or err.__context__
        raised = f" (from {type(cause).__name__}: {cause})" if cause is not None else ""
        pytest.fail(f"crashed: {type(err).__name__}: {err}{raised}\n{cxsim_run_line(config)}")
    assert not bad, "; ".join(bad) + f"\n{cxsim_run_line(config)}"


def test_every_declared_parameter_is_drawn():
    """Every declared parameter takes values other than its default, both ends of its
    range (or the closest values inside a bound left out) and, for a choice or a boolean,
    every value, somewhere among the configurations."""
    defaults = {key: _get({}, key) for key, _, _ in declared_fields()}
    for key, f, hint in declared_fields():
        if key in OWN_RULES or key in NOT_PARAMETERS:
            continue
        values = [c[key] for c in CONFIGS if key in c]
        assert any(v != defaults[key] for v in values), f"{key} is never changed"
        meta = f.metadata
        if meta.get("choices") is not None or hint is bool:
            expected = set(meta["choices"]) if hint is not bool else {True, False}
            assert set(values) == expected, f"{key} never takes {expected - set(values)}"
        elif hint in (int, float):
            for end in ("lo", "hi"):
                assert _inside(meta, end) in values, f"{key} never at its {end} end"


def test_drawn_configurations_are_valid_small_and_varied():
    for config in CONFIGS:
        params = to_params(config)  # raises if a rule is broken
        model_days = params.horizon_days + 365 * params.burn_in_years
        assert SIZES[0] <= params.population.size <= SIZES[1] and model_days <= 400 + 730
    warm = sum(c["burn_in_years"] > 0 for c in CONFIGS)
    assert 0 < warm < N_CONFIGS / 5
    assert len({cxsim_run_line(c) for c in CONFIGS}) == N_CONFIGS


@pytest.mark.parametrize("k", range(0, N_CONFIGS, 25))
def test_the_cxsim_run_line_composes_to_the_configuration(k):
    """The line a failure prints is the configuration: cxsim-run composes it to the very
    same parameters (floats, lists and choices written back exactly)."""
    overrides = cxsim_run_line(CONFIGS[k]).split()[1:]
    assert params_from_cfg(compose(overrides)) == to_params(CONFIGS[k])
