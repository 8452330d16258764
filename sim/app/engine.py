"""What the what-if app computes, without the page: its levers, the configs it composes, the
paired runs and the numbers and figures it shows (``sim.app.page`` draws them).

A what-if is a named policy (``configs/policy/<name>.yaml``) with some of its levers moved,
run on ``seeds`` seeds and compared, seed by seed, with ``policy=baseline`` on the same
seeds, customers, horizon and warm start (common random numbers). Every value the page
takes is text, turned into the overrides ``cxsim-run`` would get
(``policy.price_change=0.3``) and composed and validated by ``sim.runs.config`` as
``cxsim-run -m ... seed=0,1,2`` composes them: a bad value gets ``cxsim-run``'s one line
(``policy.price_change=-2: must be in (-1, 100]``). The runs use the model's own API
(``LoyaltyModel(params).run()``, ``summary()``, ``timeseries()``, ``journeys()``,
``hold_distribution()``); the intervals are ``sim.report.stats``'.

Hydra is imported through ``sim.runs.config`` only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from sim.core.metrics import REASONS
from sim.core.model import LoyaltyModel
from sim.core.params import ParamError, PolicyParams, SimParams
from sim.report import plotting
from sim.report.report import journey_sentence
from sim.report.stats import paired_ci, t_half_width
from sim.runs.cli import sampled_customers
from sim.runs.config import (CONFIG_DIR, check_name, compose_jobs, error_line,
                             params_from_cfg)

# the levers on the page, in groups: (group, [PolicyParams field, ...])
LEVER_GROUPS = (
    ("Pricing", ("price_change", "price_target", "explanation", "price_cap", "review_call")),
    ("Service", ("staffing_factor", "promise", "promised_wait_minutes", "callback")),
    ("Rep incentives", ("rep_help", "rep_handoff", "rep_service_hours",
                        "rep_new_sales_per_year")),
    ("Outreach", ("outreach_per_customer_year", "outreach_relevance")),
    ("Incident", ("incident_day", "incident_issue_multiplier", "incident_days")),
)
LEVERS = tuple(name for _, names in LEVER_GROUPS for name in names)
LABELS = {
    "price_change": "price change at renewal (0.6 = +60%)",
    "price_target": "price change for",
    "explanation": "explanation of the change",
    "price_cap": "largest rise at one renewal (100 = no cap)",
    "review_call": "rep reviews the cover before renewal",
    "staffing_factor": "staffing factor (x every silo's staff)",
    "promise": "hold-time promise",
    "promised_wait_minutes": "promised wait (minutes, fixed promise)",
    "callback": "offer callbacks",
    "rep_help": "rep helps with a service issue (share)",
    "rep_handoff": "rep hands it off (share)",
    "rep_service_hours": "rep hours a day for service",
    "rep_new_sales_per_year": "new sales per rep a year",
    "outreach_per_customer_year": "outreach contacts per customer a year",
    "outreach_relevance": "share of outreach that is relevant",
    "incident_day": "incident day (-1 = none)",
    "incident_issue_multiplier": "issue rate x during the incident",
    "incident_days": "incident length (days)",
}
# the run's settings: (key of the overrides, label, default text)
RUN_KEYS = (
    ("population.size", "customers", "10000"),
    ("horizon_days", "horizon (days)", "1095"),
    ("burn_in_years", "warm start (years before day 0)", "10"),
    ("seed", "first seed", "0"),
)
SEEDS_LABEL, SEEDS_DEFAULT, MAX_SEEDS = "seeds (runs per side)", "3", 50
BASELINE = "baseline"
WHAT_IF = "what-if"
STORY_PRODUCTS = 2  # a "platinum" customer holds at least this many products
JOURNEY_OTHERS = 2  # other multi-product customers on the journey figure

_compose_lock = threading.Lock()  # Hydra's compose API keeps global state
_png_lock = threading.Lock()      # plotting.FORMATS, set to PNG only while the page draws
# numba threads of the app's runs (env CXSIM_APP_THREADS, default 1): on a shared 2-core
# machine one thread ran a 10,000-customer, 3-year pair in 5 s, two threads in 24 s (the
# parallel phases wait for a descheduled thread); results do not depend on it
THREADS_ENV = "CXSIM_APP_THREADS"


class AppError(ValueError):
    """A mistake in the page's values: one line, as ``cxsim-run`` prints it (no prefix)."""


def _field(name: str) -> dataclasses.Field:
    return {f.name: f for f in dataclasses.fields(PolicyParams)}[name]


def choices(name: str) -> tuple | None:
    """The allowed values of a choice lever, None for other levers."""
    return _field(name).metadata.get("choices")


def is_bool(name: str) -> bool:
    return isinstance(_field(name).default, bool)


def text(value: Any) -> str:
    """A value as an override writes it (``true``, ``0.6``, ``movers``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def config_dir() -> Path | None:
    """An extra config directory (``cxsim-app --config-dir``, env ``CXSIM_APP_CONFIG_DIR``):
    its ``policy/*.yaml`` are offered too, and "save as policy" writes there."""
    extra = os.environ.get("CXSIM_APP_CONFIG_DIR")
    return Path(extra) if extra else None


def policy_dir() -> Path:
    """Where "save as policy" writes: the extra config directory's ``policy/``, else
    ``configs/policy/``."""
    extra = config_dir()
    return (extra if extra is not None else CONFIG_DIR) / "policy"


def policy_names() -> list[str]:
    dirs = [CONFIG_DIR / "policy"] + ([config_dir() / "policy"] if config_dir() else [])
    return sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.yaml")})


def compose(overrides: Sequence[str], seeds: Sequence[int] | None = None) -> list[SimParams]:
    """Validated parameters for ``overrides`` (one per seed), composed as ``cxsim-run``
    composes them (``-m`` with ``seed=a,b,c`` for several seeds). Raises AppError with
    ``cxsim-run``'s one line."""
    overrides = list(overrides)
    multirun = seeds is not None
    if multirun:
        overrides.append("seed=" + ",".join(str(s) for s in seeds))
    extra = config_dir()
    try:
        with _compose_lock:
            cfgs = compose_jobs(overrides, multirun=multirun,
                                config_dir=str(extra) if extra else None)
        return [params_from_cfg(c) for c in cfgs]
    except (HydraException, OmegaConfBaseException, ParamError, yaml.YAMLError) as err:
        raise AppError(error_line(err, overrides)) from err


def policy_values(name: str) -> dict[str, str]:
    """The levers of the policy ``name`` as the page shows them (text)."""
    files = [d / "policy" / f"{name}.yaml" for d in (CONFIG_DIR, config_dir()) if d]
    stamp = tuple(f.stat().st_mtime_ns if f.exists() else None for f in files)
    return dict(_policy_values(name, str(config_dir()), stamp))


@functools.lru_cache(maxsize=64)
def _policy_values(name: str, extra: str, stamp: tuple) -> tuple[tuple[str, str], ...]:
    params = compose([f"policy={name}", "burn_in_years=0"])[0]
    return tuple((k, text(getattr(params.policy, k))) for k in LEVERS)


@dataclass
class WhatIf:
    """What the page holds: a named policy, its levers and the run's settings, all text."""
    policy: str = BASELINE
    levers: dict[str, str] = field(default_factory=dict)  # changed levers only need be here
    run: dict[str, str] = field(default_factory=lambda: {k: d for k, _, d in RUN_KEYS})
    seeds: str = SEEDS_DEFAULT

    def lever_overrides(self) -> list[str]:
        """The levers that differ from the named policy, as overrides."""
        own = policy_values(self.policy)
        return [f"policy.{k}={v}" for k, v in self.levers.items()
                if k in own and v != own[k]]

    def run_overrides(self) -> list[str]:
        return [f"{k}={self.run[k]}" for k, _, _ in RUN_KEYS if k != "seed"]

    def seed_list(self) -> list[int]:
        bad = AppError(f"seeds={self.seeds}: must be an integer in [1, {MAX_SEEDS}] "
                       "(runs per side, on seeds first seed, first seed + 1, ...)")
        try:
            n = int(self.seeds.strip())
        except ValueError:
            raise bad from None
        if not 1 <= n <= MAX_SEEDS:
            raise bad
        first = compose([f"seed={self.run['seed']}", "burn_in_years=0"])[0].seed
        return [first + k for k in range(n)]

    def command(self) -> str:
        """The ``cxsim-run`` sweep of the what-if side."""
        seeds = self.seed_list()
        return " ".join(["cxsim-run -m", f"policy={self.policy}", *self.lever_overrides(),
                         *self.run_overrides(), "seed=" + ",".join(map(str, seeds))])

    def compose(self) -> tuple[list[SimParams], list[SimParams]]:
        """(what-if, baseline) parameters, one per seed, paired by seed."""
        seeds = self.seed_list()
        scenario = compose([f"policy={self.policy}", *self.lever_overrides(),
                            *self.run_overrides()], seeds)
        baseline = compose([f"policy={BASELINE}", *self.run_overrides()], seeds)
        return scenario, baseline


# -- running -------------------------------------------------------------------------------
@dataclass
class Run:
    """One finished model: its outputs, and its journey-sampled customers' products."""
    summary: dict
    timeseries: dict[str, np.ndarray]
    journeys: pd.DataFrame
    products: pd.Series  # products held on day 0, by sampled customer
    holds: np.ndarray


def run_one(params: SimParams, progress: Callable[[int, int], None] | None = None) -> Run:
    model = LoyaltyModel(params)  # the warm start runs here
    sampled = sampled_customers(model)
    model.run(progress=progress)
    return Run(model.summary(), model.timeseries(), pd.DataFrame(model.journeys()),
               pd.Series(sampled["products"], index=sampled["customer"]),
               model.hold_distribution())


def run_pairs(scenario: Sequence[SimParams], baseline: Sequence[SimParams],
              progress: Callable[[float, str], None] | None = None
              ) -> tuple[list[Run], list[Run]]:
    """Every seed's what-if and baseline run, seed by seed. ``progress(percent, what)``: the
    simulated days done (warm starts included) of all of them."""
    import numba
    numba.set_num_threads(min(int(os.environ.get(THREADS_ENV, "1")),
                              numba.config.NUMBA_NUM_THREADS))  # this thread's
    jobs = [(side, p) for s, b in zip(scenario, baseline) for side, p in
            ((WHAT_IF, s), (BASELINE, b))]
    days = [365 * p.burn_in_years + p.horizon_days for _, p in jobs]
    total, done = float(sum(days)), 0
    out: dict[str, list[Run]] = {WHAT_IF: [], BASELINE: []}
    for k, ((side, p), d) in enumerate(zip(jobs, days)):
        what = f"{side}, seed {p.seed} ({k // 2 + 1} of {len(scenario)})"
        if progress:
            progress(100 * done / total, what + ": warm start")

        def step(day: int, horizon: int, base=done + 365 * p.burn_in_years, what=what):
            if progress and (day % 30 == 0 or day == horizon):
                progress(100 * (base + day) / total, f"{what}: day {day} of {horizon}")
        out[side].append(run_one(p, step))
        done += d
    if progress:
        progress(100.0, "done")
    return out[WHAT_IF], out[BASELINE]


# -- the numbers ---------------------------------------------------------------------------
NUMBERS = (  # summary key, what it is, format
    ("customers_end", "customers at the end", "{:,.0f}"),
    ("churned", "customers lost", "{:,.0f}"),
    ("retention_annual", "annual retention", "{:.4f}"),
    ("revenue_year1", "year-one revenue", "{:,.0f}"),
    ("profit_year1", "year-one profit", "{:,.0f}"),
    ("profit", "profit over the horizon", "{:,.0f}"),
    ("npv_profit", "NPV of profit", "{:,.0f}"),
    ("customer_equity", "customer equity", "{:,.0f}"),
    ("hold_minutes_mean", "mean hold (minutes)", "{:.2f}"),
    ("broken_promises", "broken promises", "{:,.0f}"),
)


def numbers(scenario: Sequence[Run], baseline: Sequence[Run]) -> pd.DataFrame:
    """Per summary number: the means of both sides and the paired difference (what-if minus
    baseline, seed by seed) with its 95% CI. Index: summary key."""
    rows = []
    for key, label, fmt in NUMBERS:
        a = [r.summary[key] for r in scenario]
        b = [r.summary[key] for r in baseline]
        gap, low, high = paired_ci(a, b)
        rows.append({"key": key, "label": label, "format": fmt, WHAT_IF: float(np.mean(a)),
                     BASELINE: float(np.mean(b)), "gap": gap, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows).set_index("key")


def gaps_over_time(scenario: Sequence[Run], baseline: Sequence[Run]) -> pd.DataFrame:
    """Day by day, the paired gaps in active customers and in cumulative profit (what-if
    minus baseline, seed by seed): mean and 95% half-width. Columns day, customers,
    customers_half, profit, profit_half."""
    active = np.array([a.timeseries["active"] - b.timeseries["active"]
                       for a, b in zip(scenario, baseline)], dtype=float)
    profit = np.array([np.cumsum(a.timeseries["profit"]) - np.cumsum(b.timeseries["profit"])
                       for a, b in zip(scenario, baseline)], dtype=float)
    n = len(scenario)
    sd = (lambda x: x.std(axis=0, ddof=1)) if n > 1 else (lambda x: np.full(x.shape[1], np.nan))
    return pd.DataFrame({"day": scenario[0].timeseries["day"],
                         "customers": active.mean(axis=0),
                         "customers_half": t_half_width(sd(active), n),
                         "profit": profit.mean(axis=0),
                         "profit_half": t_half_width(sd(profit), n)})


# -- the figures (PNG bytes, each titled with its finding) ---------------------------------
@dataclass
class Figure:
    name: str
    title: str
    png: bytes


@contextlib.contextmanager
def _png_only():
    """``sim.report.plotting`` writes PNG only (no PDF) meanwhile: the page shows PNGs."""
    with _png_lock:
        formats, plotting.FORMATS = plotting.FORMATS, ("png",)
        try:
            yield
        finally:
            plotting.FORMATS = formats


def _png(draw: Callable[[Path], list[Path]], name: str, title: str) -> Figure:
    """Draw with one of ``sim.report.plotting``'s functions (or ``plotting.save``) into a
    temporary directory and keep the PNG's bytes."""
    with tempfile.TemporaryDirectory() as tmp, _png_only():
        paths = draw(Path(tmp))
        return Figure(name, title, next(p for p in paths if p.suffix == ".png").read_bytes())


def _ci_text(gap: float, low: float, high: float, fmt: str) -> str:
    if np.isnan(low):
        return f"{fmt.format(gap)} (one seed: no interval)"
    return f"{fmt.format(gap)} (95% CI {fmt.format(low)} to {fmt.format(high)})"


def _direction(low: float, high: float, up: str, down: str) -> str:
    if low > 0:
        return up
    if high < 0:
        return down
    return "no clear change"


def fig_gaps(gaps: pd.DataFrame, nums: pd.DataFrame) -> Figure:
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    years = gaps.day.to_numpy() / 365
    for ax, col, label, scale in ((axes[0], "customers", "customers (what-if - baseline)", 1.0),
                                  (axes[1], "profit", "cumulative profit gap (thousands)",
                                   1e-3)):
        m, h = gaps[col].to_numpy() * scale, gaps[f"{col}_half"].to_numpy() * scale
        ax.plot(years, m, color=plotting.OKABE_ITO[5], linewidth=1.3)
        if not np.isnan(h).all():
            ax.fill_between(years, m - h, m + h, color=plotting.OKABE_ITO[5], alpha=0.2,
                            linewidth=0, label="95% band (paired by seed)")
            ax.legend(frameon=False, fontsize=7)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set(xlabel="time (years)", ylabel=label)
    c, p = nums.loc["customers_end"], nums.loc["profit"]
    horizon = len(gaps) / 365
    title = (f"After {horizon:.1f} years the what-if has {c.gap:+,.0f} customers "
             f"({_direction(c.ci_low, c.ci_high, 'more', 'fewer')}) and "
             f"{p.gap / 1e3:+,.0f} thousand profit "
             f"({_direction(p.ci_low, p.ci_high, 'more', 'less')}) against the baseline")
    plotting.set_title(fig, title)
    return _png(lambda out: plotting.save(fig, out, "gaps"), "gaps", title)


def fig_profit_equity(scenario: Sequence[Run], baseline: Sequence[Run],
                      nums: pd.DataFrame) -> Figure:
    """Year-one profit gap against customer-equity gap: one point per seed and the mean
    with its 95% CIs in both directions."""
    import matplotlib.pyplot as plt
    x = np.array([a.summary["profit_year1"] - b.summary["profit_year1"]
                  for a, b in zip(scenario, baseline)]) / 1e3
    y = np.array([a.summary["customer_equity"] - b.summary["customer_equity"]
                  for a, b in zip(scenario, baseline)]) / 1e3
    p1, ce = nums.loc["profit_year1"], nums.loc["customer_equity"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.scatter(x, y, s=14, color=plotting.OKABE_ITO[2], label="one seed", zorder=2)
    err = {}
    if not np.isnan(p1.ci_low):
        err = {"xerr": [[(p1.gap - p1.ci_low) / 1e3], [(p1.ci_high - p1.gap) / 1e3]],
               "yerr": [[(ce.gap - ce.ci_low) / 1e3], [(ce.ci_high - ce.gap) / 1e3]]}
    ax.errorbar([p1.gap / 1e3], [ce.gap / 1e3], fmt="o", color=plotting.OKABE_ITO[6],
                capsize=3, markersize=6, label="mean, 95% CI", zorder=3, **err)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="year-one profit vs baseline (thousands)",
           ylabel="customer equity vs baseline (thousands)")
    ax.legend(frameon=False, fontsize=7)
    short = _direction(p1.ci_low, p1.ci_high, "raises", "lowers")
    long = _direction(ce.ci_low, ce.ci_high, "raises", "lowers")
    if short == "raises" and long == "lowers":
        title = (f"Short-term gain, long-term loss: year-one profit {p1.gap / 1e3:+,.0f} "
                 f"thousand, customer equity {ce.gap / 1e3:+,.0f} thousand")
    else:
        title = (f"The what-if {short.replace('no clear change', 'leaves unclear')} year-one "
                 f"profit ({p1.gap / 1e3:+,.0f} thousand) and "
                 f"{long.replace('no clear change', 'leaves unclear')} customer equity "
                 f"({ce.gap / 1e3:+,.0f} thousand)")
    plotting.set_title(ax, title)
    return _png(lambda out: plotting.save(fig, out, "profit_equity"), "profit_equity", title)


def _promise(params: SimParams) -> float | None:
    pol = params.policy
    return float(pol.promised_wait_minutes) if pol.promise == "fixed" else None


def fig_holds(scenario: Sequence[Run], baseline: Sequence[Run],
              params: tuple[SimParams, SimParams]) -> Figure | None:
    """Hold times of both sides pooled over seeds, against a fixed promise
    (``plotting.hold_distributions``); None when no call held."""
    holds, promises = {}, {}
    for name, runs, p in ((WHAT_IF, scenario, params[0]), (BASELINE, baseline, params[1])):
        calls = np.sum([r.holds for r in runs], axis=0)
        if calls.sum() > 0:
            holds[name] = pd.DataFrame({"minutes": np.arange(calls.size), "calls": calls})
            if _promise(p) is not None:
                promises[name] = _promise(p)
    if not holds:
        return None
    return _png(lambda out: plotting.hold_distributions(holds, promises, out), "holds",
                plotting.hold_finding(holds, promises))


def fig_churn(scenario: Sequence[Run], baseline: Sequence[Run]) -> Figure | None:
    """Customers lost by reason, mean over seeds (``plotting.churn_by_reason``)."""
    means = pd.DataFrame({f"churned_{r}": [np.mean([x.summary["churn_by_reason"][r]
                                                    for x in runs])
                                           for runs in (scenario, baseline)]
                          for r in REASONS}, index=[WHAT_IF, BASELINE])
    if means.to_numpy().sum() == 0:
        return None
    return _png(lambda out: plotting.churn_by_reason(means, out), "churn",
                plotting.churn_finding(means))


def platinum(run: Run) -> int | None:
    """The journey-sampled customer of one run to follow: the most products, then one who saw
    a price change, judged it unfair and left (the platinum customer of the silent hike),
    then the most kinds of events; None without any sampled customer."""
    if run.products.empty:
        return None
    seen = run.journeys.groupby("customer").event.agg(set) if len(run.journeys) else {}
    best, best_score = None, None
    for cust, products in run.products.items():
        kinds = seen.get(cust, set()) if len(seen) else set()
        score = (int(products) >= STORY_PRODUCTS,
                 {"price_change", "judged_unfair", "churned"} <= kinds,
                 "churned" in kinds, int(products), len(kinds))
        if best_score is None or score > best_score:
            best, best_score = int(cust), score
    return best


def fig_journey(scenario: Run, baseline: Run, seed: int) -> Figure | None:
    """One sampled platinum customer of the first seed under both sides (the same customer:
    the same seed draws the same book), with the ``JOURNEY_OTHERS`` sampled multi-product
    customers with the most events under the what-if below (``plotting.journey_timeline``).
    Titled with the platinum customer's two stories."""
    cust = platinum(scenario)
    if cust is None:
        return None
    products = scenario.products
    j = scenario.journeys
    busy = j[j.customer.map(products).fillna(0) >= STORY_PRODUCTS] if len(j) else j
    others = [int(c) for c in (busy.groupby("customer").size().sort_values(ascending=False)
                               .index if len(busy) else []) if c != cust][:JOURNEY_OTHERS]
    rows, stories = [], {}
    for c in (cust, *others):
        for side, run in ((WHAT_IF, scenario), (BASELINE, baseline)):
            label = f"{side}: customer {c} ({int(products[c])} products)"
            e = run.journeys[run.journeys.customer == c]
            if c == cust:
                stories[side] = journey_sentence(e, int(products[c]))
            rows.append(e.assign(label=label) if len(e) else pd.DataFrame(
                {"customer": [c], "day": [0], "event": ["(no event)"], "value": [0.0],
                 "label": [label]}))
    events = pd.concat(rows, ignore_index=True)
    title = (f"Seed {seed}, a {int(products[cust])}-product customer: under the what-if "
             f"{stories[WHAT_IF]}; under the baseline {stories[BASELINE]}")
    short = (f"Seed {seed}: customer {cust} (top), and the busiest multi-product customers, "
             "under the what-if and the baseline")
    return _png(lambda out: plotting.journey_timeline(events, short, out), "journey", title)


@dataclass
class Result:
    """What the page shows after a run."""
    command: str
    numbers: pd.DataFrame
    figures: list[Figure]
    seeds: list[int]


def evaluate(what_if: WhatIf, progress: Callable[[float, str], None] | None = None) -> Result:
    """Compose (raises AppError), run both sides on the same seeds, and make the numbers and
    figures."""
    scenario_params, baseline_params = what_if.compose()
    command = what_if.command()
    scenario, baseline = run_pairs(scenario_params, baseline_params, progress)
    nums = numbers(scenario, baseline)
    figures = [fig_gaps(gaps_over_time(scenario, baseline), nums),
               fig_profit_equity(scenario, baseline, nums),
               fig_holds(scenario, baseline, (scenario_params[0], baseline_params[0])),
               fig_churn(scenario, baseline),
               fig_journey(scenario[0], baseline[0], scenario_params[0].seed)]
    return Result(command, nums, [f for f in figures if f is not None],
                  [p.seed for p in scenario_params])


# -- save as policy ------------------------------------------------------------------------
def save_policy(what_if: WhatIf, name: str, directory: Path | None = None) -> Path:
    """Write the what-if's policy as ``<directory>/<name>.yaml`` (default ``policy_dir()``), a
    policy group file ``cxsim-run policy=<name>`` (and a sweep) can use: every value that
    differs from the schema's default. Refuses a bad name, bad levers and an existing file
    (AppError, one line)."""
    name = name.strip()
    try:
        check_name("policy.name", name)
    except ParamError as err:
        raise AppError(str(err)) from None
    directory = Path(directory) if directory is not None else policy_dir()
    path = directory / f"{name}.yaml"
    if path.exists() or (CONFIG_DIR / "policy" / f"{name}.yaml").exists():
        raise AppError(f"policy.name={name}: a policy of that name exists; choose another name")
    scenario, _ = what_if.compose()
    policy = scenario[0].policy
    default = PolicyParams()
    values = {f.name: getattr(policy, f.name) for f in dataclasses.fields(PolicyParams)
              if f.name != "name" and getattr(policy, f.name) != getattr(default, f.name)}
    changed = what_if.lever_overrides()
    lines = [f"# {name}: saved from the what-if app (cxsim-app): policy {what_if.policy}"
             + (f" with {', '.join(o.removeprefix('policy.') for o in changed)}." if changed
                else "."),
             "# Every value that differs from the schema default (sim.core.params.PolicyParams).",
             "defaults:", "  - /schema/policy@_here_", "  - _self_", "",
             f"name: {name}"]
    lines += [yaml.safe_dump({k: v}, default_flow_style=False).strip() for k, v in values.items()]
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.rename(path)
    return path
