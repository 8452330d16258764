"""``cxsim-report results/<study>``: a study's figures (PNG and PDF) and ``report.md``.

    cxsim-report results/premium_hike

Collects the study first (``sim.runs.study.collect``: ``runs.parquet``, ``daily.parquet`` from the
complete runs; a study with a damaged run is refused in one line, exit status 2), then draws
from those tables and the run directories' journeys and hold times: retention curves with
95% bands across replications; paired differences against the reference scenario with 95%
CIs (customer equity among them); year-one revenue against multi-year profit; heatmaps over
two swept parameters; hold-time distributions against the promise; churn by reason; a
timeline of sampled customers' journeys. A figure a study cannot support is skipped, and
report.md says why. report.md's main table puts the short term
(year-one revenue, profit of each year), the horizon (NPV of profit) and the long term
(customer equity: the NPV plus the customers left at the end, ``Recorder.summary``) side by
side. The reference of a scenario is the scenario with the study's baseline values
(``baseline`` in the experiment, default ``policy: baseline``) and the same values of every
other swept parameter; differences are taken seed by seed (common random numbers).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.runs import io as sim_io
from sim.report import plotting
from sim.core.metrics import EVENTS, REASONS
from sim.report.stats import mean_ci, paired_ci, t_half_width
from sim.runs.study import (DAILY, RUNS, StudyDamaged, collect, read_study_info,
                             read_swept)

PROG = "cxsim-report"
# paired differences (``differences``); the study's later years' profit (``profit_year2``,
# ...) follow profit_year1 (``diff_metrics``)
DIFF_METRICS = ("churned", "retention_annual", "revenue_year1", "profit_year1", "npv_profit",
                "future_value", "customer_equity")
# the main table: column, heading, format; the profit of each year follows year-one revenue
# (``table_columns``)
TABLE = (("retention_annual", "annual retention", "{:.3f}"), ("churned", "churned", "{:,.0f}"),
         ("revenue_year1", "year-one revenue", "{:,.0f}"),
         ("npv_profit", "NPV of profit", "{:,.0f}"),
         ("customer_equity", "customer equity", "{:,.0f}"),
         ("hold_minutes_mean", "mean hold (min)", "{:.1f}"),
         ("hold_minutes_p90", "90th pct hold (min)", "{:.0f}"),
         ("abandonment_rate", "abandonment", "{:.3f}"), ("unfair_share_end", "unfair at end",
                                                         "{:.3f}"),
         ("nps_mean", "NPS", "{:.1f}"))
STORY_SAMPLE = 6  # customers on the journey timeline
STORY_RUNS = 60   # runs searched for the story's customer


def profit_years(columns: Sequence[str]) -> list[str]:
    """The profit-by-year names among ``columns`` (a study's: ``runs.columns``),
    ``profit_year1``, ``profit_year2``, ... in year order."""
    years = [int(c.removeprefix("profit_year")) for c in columns
             if c.startswith("profit_year") and c.removeprefix("profit_year").isdigit()]
    return [f"profit_year{y}" for y in sorted(years)]


def _ordinal(year: int) -> str:
    words = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[year - 1] if year <= len(words) else str(year)


def table_columns(runs: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``TABLE`` with the profit of every year of the study after year-one revenue."""
    years = [(c, f"year-{_ordinal(int(c.removeprefix('profit_year')))} profit", "{:,.0f}")
             for c in profit_years(runs.columns)]
    at = [c for c, _, _ in TABLE].index("revenue_year1") + 1
    return [*TABLE[:at], *years, *TABLE[at:]]


def diff_metrics(runs: pd.DataFrame) -> list[str]:
    """``DIFF_METRICS`` with the profit of the study's later years after year one's."""
    later = [c for c in profit_years(runs.columns) if c not in DIFF_METRICS]
    at = DIFF_METRICS.index("profit_year1") + 1
    return [*DIFF_METRICS[:at], *later, *DIFF_METRICS[at:]]


class Skipped(Exception):
    """A figure the study cannot support; the message says why (it goes into report.md)."""


class StudyMixed(ValueError):
    """A scenario whose runs differ in size or horizon: their means would mix answers to
    different questions (cxsim-report refuses the study in one line)."""


MIN_SEEDS = 3  # fewer replications: report.md warns that the intervals are wide or missing


def check_comparable(runs: pd.DataFrame) -> None:
    """Every scenario's runs have one population size and one horizon. Raises StudyMixed."""
    for key, label in (("population.size", "population sizes"), ("days", "horizons (days)")):
        if key not in runs:
            continue
        values = runs.groupby("scenario")[key].unique()
        mixed = values[values.map(len) > 1]
        if len(mixed):
            name = mixed.index[0]
            shown = ", ".join(f"{v:,}" for v in sorted(int(x) for x in mixed.iloc[0]))
            raise StudyMixed(f"scenario {name} has runs of different {label}: {shown}; "
                             f"put them in separate studies (study=...) or sweep {key}")


# -- scenarios and their references -----------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    """Equal values, numbers compared as numbers (0 and 0.0 are the same)."""
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def scenarios(runs: pd.DataFrame, dims: Sequence[str],
              baseline: Mapping[str, Any]) -> pd.DataFrame:
    """One row per scenario (index: its label) with its values of ``dims`` and
    ``reference``: the label of its reference scenario, or None if the study has none.
    Order: reference scenarios first, then by the values of ``dims``."""
    table = runs.groupby("scenario", sort=False)[list(dims)].first()
    keys = dict(baseline)

    def reference(row: pd.Series) -> str | None:
        if any(k not in dims for k in keys):
            return None
        for label, other in table.iterrows():
            if all(_same(other[d], keys[d]) if d in keys else _same(other[d], row[d])
                   for d in dims):
                return label
        return None

    table["reference"] = [reference(row) for _, row in table.iterrows()]
    table["is_reference"] = table.index == table.reference
    order = sorted(table.index, key=lambda s: (not table.loc[s, "is_reference"],
                                               tuple(str(table.loc[s, d]) for d in dims)))
    return table.loc[order]


def pairs(table: pd.DataFrame, dims: Sequence[str],
          comparisons: Sequence[Sequence[str]] = ()) -> list[tuple[str, str]]:
    """The (scenario, reference) pairs of a study's paired differences. Without
    ``comparisons``, each scenario against its reference (``scenarios``). With them (an
    experiment's ``comparisons``: [scenario policy, reference policy] pairs), each scenario
    of the first policy against the scenario of the second with the same values of every
    other swept parameter, in the order given."""
    if not comparisons:
        return [(name, row.reference) for name, row in table.iterrows()
                if row.reference is not None and not row.is_reference]
    others = [d for d in dims if d != "policy"]
    out = []
    for policy, reference in comparisons:
        for name, row in table[table.policy == policy].iterrows():
            for ref, other in table[table.policy == reference].iterrows():
                if all(_same(other[d], row[d]) for d in others):
                    out.append((name, ref))
    return out


def differences(runs: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                metrics: Sequence[str] = DIFF_METRICS) -> pd.DataFrame:
    """Mean paired differences (scenario minus its reference, seed by seed) with 95% CIs:
    rows scenario, reference, pair ("<scenario> vs <reference>"), metric, n (paired seeds),
    mean, ci_low, ci_high."""
    rows = []
    for name, reference in pairs:
        a = runs[runs.scenario == name].set_index("seed")
        b = runs[runs.scenario == reference].set_index("seed")
        seeds = a.index.intersection(b.index)
        for metric in metrics:
            m, lo, hi = paired_ci(a.loc[seeds, metric], b.loc[seeds, metric])
            rows.append({"scenario": name, "reference": reference,
                         "pair": f"{name} vs {reference}", "metric": metric,
                         "n": len(seeds), "mean": m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["scenario", "reference", "pair", "metric", "n", "mean",
                                       "ci_low", "ci_high"])


def gaps_over_time(daily: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Day by day, each pair's paired gaps, mean and 95% CI across the seeds both ran:
    customers active (scenario minus reference) and cumulative profit since day 0. Rows
    pair, day, metric ("customers" or "cumulative_profit"), n, mean, ci_low, ci_high."""
    frames = []
    for name, reference in pairs:
        a, b = (daily[daily.scenario == n].pivot(index="day", columns="seed",
                                                 values=["active", "profit"])
                for n in (name, reference))
        seeds = a["active"].columns.intersection(b["active"].columns)
        days = a.index.intersection(b.index)
        gaps = {"customers": a["active"].loc[days, seeds] - b["active"].loc[days, seeds],
                "cumulative_profit": (a["profit"].loc[days, seeds].cumsum()
                                      - b["profit"].loc[days, seeds].cumsum())}
        for metric, g in gaps.items():
            mean = g.mean(axis=1)
            half = t_half_width(g.std(axis=1, ddof=1), len(seeds)) if len(seeds) > 1 \
                else np.full(len(g), np.nan)
            frames.append(pd.DataFrame({"pair": f"{name} vs {reference}", "day": g.index,
                                        "metric": metric, "n": len(seeds), "mean": mean,
                                        "ci_low": mean - half, "ci_high": mean + half}))
    columns = ["pair", "day", "metric", "n", "mean", "ci_low", "ci_high"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else \
        pd.DataFrame(columns=columns)


def turning_day(gaps: pd.DataFrame, pair: str) -> tuple[str, int | None]:
    """When a pair's cumulative profit gain is gone, or its loss recovered, for good:
    ("gone", day) if the gap was once clearly positive (its 95% CI above zero) and its mean
    is below zero from ``day`` to the end; ("recovered", day) the other way round; ("none",
    None) otherwise (no clear gain or loss first, or no turn)."""
    g = gaps[(gaps.pair == pair) & (gaps.metric == "cumulative_profit")].set_index("day")
    mean = g["mean"].to_numpy()
    if mean.size == 0 or mean[-1] == 0:
        return "none", None
    end = np.sign(mean[-1])
    clear = np.flatnonzero(g.ci_low.to_numpy() > 0 if end < 0 else g.ci_high.to_numpy() < 0)
    if clear.size == 0:
        return "none", None
    since = np.flatnonzero(np.sign(mean[clear[-1]:]) != end)  # after the last clear day
    day = int(g.index[clear[-1] + since[-1] + 1])
    return ("gone" if end < 0 else "recovered"), day


# -- the figures (each raises Skipped when the study cannot support it) -----------------------
def _fig_retention(ctx) -> list[Path]:
    return plotting.retention_curves(ctx.daily, list(ctx.table.index), ctx.out)


def _need_differences(ctx) -> None:
    if ctx.diff.empty:
        raise Skipped("no scenario has a reference scenario with the same seeds (baseline "
                      f"{ctx.info['baseline']}; swept: {', '.join(ctx.dims)})")
    if ctx.diff.n.max() < 2:
        raise Skipped("fewer than two paired seeds: no confidence interval")


def _fig_differences(ctx) -> list[Path]:
    _need_differences(ctx)
    return plotting.paired_differences(
        ctx.diff, ("churned", "retention_annual", "npv_profit", "customer_equity"), ctx.out)


def _fig_over_time(ctx) -> list[Path]:
    _need_differences(ctx)
    return plotting.paired_over_time(ctx.gaps, ctx.turning, ctx.out)


def _fig_revenue_profit(ctx) -> list[Path]:
    _need_differences(ctx)
    return plotting.revenue_vs_profit(ctx.diff, ctx.runs.days.max() / 365, ctx.out)


def _fig_heatmaps(ctx) -> list[Path]:
    dims = [d for d in ctx.dims if ctx.runs[d].nunique() > 1]
    if len(dims) < 2:
        raise Skipped(f"needs two swept parameters; this study sweeps "
                      f"{', '.join(dims) or 'none'} (besides the seed)")
    x, y = dims[:2]
    cells = ctx.runs.groupby([x, y], as_index=False)[["retention_annual", "npv_profit"]].mean()
    return plotting.heatmaps(cells, x, y, ctx.out)


def _fig_holds(ctx) -> list[Path]:
    """Hold times of the scenarios that promise a fixed wait and of those they are compared
    with (every scenario if none promises one)."""
    first = ctx.runs.groupby("scenario").first()
    fixed = [n for n in ctx.table.index if first.loc[n, "policy.promise"] == "fixed"]
    shown = set(fixed) | {r for s, r in ctx.pairs if s in fixed} | \
        {s for s, r in ctx.pairs if r in fixed}
    holds = {}
    for name in [n for n in ctx.table.index if n in shown or not fixed]:
        dirs = ctx.runs.loc[ctx.runs.scenario == name, "run_dir"]
        h = pd.concat([sim_io.read_holds(ctx.study / d).to_pandas() for d in dirs])
        if h.calls.sum() > 0:
            holds[name] = h[["minutes", "calls"]]
    if not holds:
        raise Skipped("no call was held in any run")
    promises = {n: float(first.loc[n, "policy.promised_wait_minutes"])
                for n in holds if first.loc[n, "policy.promise"] == "fixed"}
    return plotting.hold_distributions(holds, promises, ctx.out)


def _fig_churn(ctx) -> list[Path]:
    cols = [f"churned_{r}" for r in REASONS]
    means = ctx.runs.groupby("scenario")[cols].mean().loc[list(ctx.table.index)]
    if means.to_numpy().sum() == 0:
        raise Skipped("no customer left in any run")
    return plotting.churn_by_reason(means, ctx.out)


def journey_sentence(events: pd.DataFrame, products: int) -> str:
    """What happened to one customer holding ``products``, from their journey events (the
    largest price change, an unfair judgment, calls and the longest hold, leaving or
    staying): the report's story and the app's caption."""
    parts = []
    rise = events[events.event == "price_change"]
    if len(rise):
        r = rise.loc[rise.value.idxmax()]  # the largest change (the hike, not the trend)
        parts.append(f"{r.value:+.0%} at renewal on day {r.day}")
    if (events.event == "judged_unfair").any():
        parts.append("judged unfair")
    calls = events[events.event == "call"]
    if len(calls):
        parts.append(f"{len(calls)} call(s), longest hold {calls.value.max():.0f} min")
    left = events[events.event == "churned"]
    if len(left):
        parts.append(f"left on day {left.day.iloc[0]} ({REASONS[int(left.value.iloc[0])]}) "
                     + (f"with all {products} products" if products > 1 else ""))
    else:
        parts.append("stayed")
    return ", ".join(parts)


def _story(events: pd.DataFrame, products: int, scenario: str, seed: int) -> str:
    """One sentence of a customer's journey, from their events."""
    return (f"{scenario}, seed {seed}: a {products}-product customer: "
            + journey_sentence(events, products))


def _fig_journeys(ctx) -> list[Path]:
    """The story's customer: a sampled customer who saw a price change, judged it unfair and
    left, holding as many products as possible (the platinum customer of the silent hike);
    searched in up to ``STORY_RUNS`` runs, non-reference scenarios first. With
    ``comparisons``, the story is told from the first one's scenario (the headline's silent
    hike) when one of its customers has it."""
    best, best_score = None, None
    first = ctx.info["comparisons"][0][0] if ctx.info["comparisons"] else None
    candidates = ctx.runs.assign(ref=ctx.runs.scenario.map(ctx.table.is_reference),
                                 other=ctx.runs.policy != first) \
        .sort_values(["other", "ref", "seed", "scenario"]).head(STORY_RUNS)
    for run in candidates.itertuples():
        name = run.scenario
        j = sim_io.read_journeys(ctx.study / run.run_dir).to_pandas()
        if j.empty:
            continue
        products = sim_io.read_sampled(ctx.study / run.run_dir).to_pandas() \
            .set_index("customer")["products"]
        seen = j.groupby("customer").event.agg(set)
        for cust, kinds in seen.items():
            story = {"price_change", "judged_unfair", "churned"} <= kinds
            score = (story, run.policy == first, int(products[cust]), "churned" in kinds,
                     len(kinds))
            if best_score is None or score > best_score:
                best, best_score = (name, run, j, products, cust), score
    if best is None:
        raise Skipped("no sampled customer had any event (population.journey_sample=0?)")
    name, run, j, products, cust = best
    others = j[j.customer != cust].groupby("customer").size().sort_values(ascending=False)
    shown = [cust, *others.index[:STORY_SAMPLE - 1]]
    events = j[j.customer.isin(shown)].copy()
    events["label"] = events.customer.map(lambda c: f"customer {c} ({products[c]} products)")
    events["order"] = events.customer.map(shown.index)
    events = events.sort_values(["order", "day"])
    story = _story(j[j.customer == cust], int(products[cust]), name, int(run.seed))
    if not best_score[0]:
        story = ("No sampled customer got a price rise, judged it unfair and left; the "
                 "closest case: " + story)
    return plotting.journey_timeline(events, story, ctx.out)


FIGURES = (("retention_curves", "Retention per scenario, 95% bands across replications",
            _fig_retention),
           ("paired_differences", "Paired differences against the reference, 95% CIs",
            _fig_differences),
           ("paired_over_time", "Customer and cumulative profit gaps over time, paired by "
            "seed, 95% bands", _fig_over_time),
           ("revenue_vs_profit", "Year-one revenue against multi-year profit",
            _fig_revenue_profit),
           ("heatmaps", "Heatmaps over two swept parameters", _fig_heatmaps),
           ("hold_distributions", "Hold times against the promise", _fig_holds),
           ("churn_by_reason", "Churn by reason", _fig_churn),
           ("journey_timeline", "Sampled customers' journeys", _fig_journeys))


class _Context:
    def __init__(self, study: Path, out: Path) -> None:
        self.study, self.out = study, out
        self.runs = pd.read_parquet(study / RUNS)
        self.daily = pd.read_parquet(study / DAILY)
        self.info = read_study_info(study)
        self.dims = ["policy", *read_swept(study)]
        check_comparable(self.runs)
        self.table = scenarios(self.runs, self.dims, self.info["baseline"])
        self.pairs = pairs(self.table, self.dims, self.info["comparisons"])
        self.diff = differences(self.runs, self.pairs, diff_metrics(self.runs))
        self.gaps = gaps_over_time(self.daily, self.pairs)
        self.turning = {p: turning_day(self.gaps, p) for p in dict.fromkeys(self.gaps.pair)}


# -- report.md --------------------------------------------------------------------------------
SHARES = ("retention_annual", "abandonment_rate", "unfair_share_end")  # within [0, 1]


def _cell(values, fmt: str, share: bool = False) -> str:
    """Mean [95% CI] of ``values``; a share's interval is cut to [0, 1], where it lies."""
    m, lo, hi = mean_ci(values)
    if share:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return fmt.format(m) if np.isnan(lo) else \
        f"{fmt.format(m)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _span(values: pd.Series, unit: str | None = None) -> str:
    """The range of ``values`` ("5" or "3 to 5"), with ``unit`` after it in the singular
    or plural as the number reads ("1 replication", "3 to 5 replications")."""
    lo, hi = int(values.min()), int(values.max())
    text = f"{lo:,}" if lo == hi else f"{lo:,} to {hi:,}"
    return text if unit is None else f"{text} {unit}{'' if lo == hi == 1 else 's'}"


def _years(years: float) -> str:
    return f"{years:g} year" + ("" if years == 1 else "s")


def _turn_text(turn: tuple[str, int | None]) -> str:
    kind, day = turn
    if kind == "gone":
        return (f" Its cumulative profit gain is gone by day {day:,} "
                f"(year {day // 365 + 1}) and stays a loss to the end.")
    if kind == "recovered":
        return (f" Its cumulative profit loss is recovered by day {day:,} "
                f"(year {day // 365 + 1}) and stays a gain to the end.")
    return ""


def answers(diff: pd.DataFrame, years: float,
            turning: Mapping[str, tuple[str, int | None]] | None = None) -> list[str]:
    """One sentence per scenario with a reference, from its paired differences: customers
    lost, year-one revenue and profit, the profit of each later year, NPV of profit over the
    horizon and customer equity (NPV plus the discounted future value of the customers left
    at the end), each as mean [95% CI]; metrics missing from ``diff`` are left out; and
    when the cumulative profit gap turns for good (``turning``, by pair)."""
    turning = turning or {}
    def part(d: pd.DataFrame, metric: str) -> str:
        r = d.loc[metric]
        if np.isnan(r.ci_low):
            return f"{r['mean']:+,.0f}"
        return f"{r['mean']:+,.0f} [{r.ci_low:+,.0f}, {r.ci_high:+,.0f}]"

    lines = []
    for (scenario, reference), d in diff.groupby(["scenario", "reference"], sort=False):
        d = d.set_index("metric")
        later = [m for m in profit_years(d.index) if m != "profit_year1"]
        by_year = ("; profit in " + ", ".join(
            f"year {_ordinal(int(m.removeprefix('profit_year')))} {part(d, m)}"
            for m in later)) if later else ""
        equity = (f"; customer equity {part(d, 'customer_equity')} (of which the "
                  f"customers left at the end {part(d, 'future_value')})"
                  if {"customer_equity", "future_value"} <= set(d.index) else "")
        lines.append(f"- **{scenario}** against {reference}: customers lost "
                     f"{part(d, 'churned')}; year-one revenue {part(d, 'revenue_year1')} and "
                     f"profit {part(d, 'profit_year1')}{by_year}; NPV of profit over "
                     f"{_years(years)} {part(d, 'npv_profit')}{equity}."
                     + _turn_text(turning.get(f"{scenario} vs {reference}", ("none", None))))
    return lines


def markdown(ctx, drawn: set[str], skipped: dict[str, str]) -> str:
    runs, info = ctx.runs, ctx.info
    columns = table_columns(runs)
    name = info["experiment"] or ctx.study.name
    seeds = runs.groupby("scenario").seed.nunique()
    lines = [f"# Study: {name}", ""]
    if info["question"]:
        question = info["question"]
        lines += [f"**Question.** {question[:1].upper()}{question[1:]}", ""]
    if seeds.min() < MIN_SEEDS:
        few = ", ".join(seeds[seeds < MIN_SEEDS].index)
        lines += [f"**Warning.** Fewer than {MIN_SEEDS} replications in {few}: the "
                  "intervals below are wide or missing (a single replication has none); run "
                  "more seeds before reading an answer from this study.", ""]
    lines += [f"{len(runs)} complete runs in {len(ctx.table)} scenarios, "
              f"{_span(seeds, 'replication')} (seeds) each; "
              f"{_span(runs.customers_start)} customers at the start, "
              f"{_span(runs.days, 'day')}. Swept: "
              f"{', '.join(ctx.dims)} (and the seed). Baseline: "
              + ", ".join(f"{k}={v}" for k, v in info["baseline"].items())
              + ". Mean [95% CI] across replications."
              + (f" Left out: {info['runs_left_out']} run(s) made by other versions of the "
                 "model's code." if info.get("runs_left_out") else ""), "",
              "| scenario | " + " | ".join(t[1] for t in columns) + " |",
              "|---" * (len(columns) + 1) + "|"]
    for scenario in ctx.table.index:
        r = runs[runs.scenario == scenario]
        lines.append(f"| {scenario} | " + " | ".join(_cell(r[c], f, c in SHARES) for c, _, f in columns)
                     + " |")
    lines += ["", "Profit by year is undiscounted. Customer equity is the NPV of profit over "
              "the horizon plus the customers still active at the end, each valued at their "
              "annual margin m (premium - expected claims - the run's service cost per "
              "customer-year over its last year) as m r / (1 + i - r) (Gupta, Lehmann & "
              "Stuart 2004), with r the annual retention of their tier (products held) over "
              "the run's last year (the whole run if shorter) and i the discount rate, "
              "discounted from the end of the horizon to day 0."]
    if not ctx.diff.empty:
        years = round(float(runs.days.max()) / 365.0, 1)
        lines += ["", "## Answers", "", "Each scenario minus its reference on the same seeds, "
                  "mean [95% CI]:", ""] + answers(ctx.diff, years, ctx.turning)
    lines += ["", "## Paired differences against the reference (same seeds)", ""]
    if ctx.diff.empty:
        lines.append("None: no scenario has a reference scenario (see the baseline above).")
    else:
        lines += ["| scenario | reference | metric | seeds | mean | 95% CI |",
                  "|---|---|---|---|---|---|"]
        for d in ctx.diff.itertuples():
            fmt = "{:.4f}" if d.metric == "retention_annual" else "{:,.0f}"
            lines.append(f"| {d.scenario} | {d.reference} | {d.metric} | {d.n} | "
                         f"{fmt.format(d.mean)} | [{fmt.format(d.ci_low)}, "
                         f"{fmt.format(d.ci_high)}] |")
    lines += ["", "## Figures", ""]
    for fig, title, _ in FIGURES:
        if fig in drawn:
            lines += [f"### {title}", "", f"![{fig}]({fig}.png) ([PDF]({fig}.pdf))", ""]
        else:
            lines += [f"### {title}", "", f"Not drawn: {skipped[fig]}.", ""]
    return "\n".join(lines)


def report(study_dir: Path | str, progress: bool = True) -> Path:
    """Draw every figure a study supports into ``study_dir`` and write ``report.md``; the
    study must be collected (``sim.runs.study.collect``). Returns the path of report.md."""
    study = Path(study_dir)
    ctx = _Context(study, study)
    drawn, skipped = set(), {}
    for name, _, draw in tqdm(FIGURES, desc="figures", unit="figure", file=sys.stderr,
                              disable=None if progress else True):  # None: off when not a terminal
        for ext in plotting.FORMATS:  # never leave a stale figure of an earlier report
            (study / f"{name}.{ext}").unlink(missing_ok=True)
        try:
            draw(ctx)
            drawn.add(name)
        except Skipped as why:
            skipped[name] = str(why)
    path = study / "report.md"
    sim_io.write_text(path, markdown(ctx, drawn, skipped) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``cxsim-report``."""
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("study", type=Path, help="a study's results directory, results/<study>")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    if not args.study.is_dir():
        print(f"{PROG}: {args.study}: no such directory", file=sys.stderr)
        return 2
    try:
        collect(args.study, progress=not args.no_progress)
        path = report(args.study, progress=not args.no_progress)
    except (FileNotFoundError, StudyDamaged, StudyMixed) as err:  # refused in one line
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    print(f"{PROG}: wrote {path} and its figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
