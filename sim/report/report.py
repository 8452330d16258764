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
from sim.report.stats import mean_ci, paired_ci
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


def differences(runs: pd.DataFrame, table: pd.DataFrame,
                metrics: Sequence[str] = DIFF_METRICS) -> pd.DataFrame:
    """Mean paired differences (scenario minus its reference, seed by seed) with 95% CIs:
    rows scenario, reference, metric, n (paired seeds), mean, ci_low, ci_high."""
    rows = []
    for name, row in table.iterrows():
        if row.reference is None or row.is_reference:
            continue
        a = runs[runs.scenario == name].set_index("seed")
        b = runs[runs.scenario == row.reference].set_index("seed")
        seeds = a.index.intersection(b.index)
        for metric in metrics:
            m, lo, hi = paired_ci(a.loc[seeds, metric], b.loc[seeds, metric])
            rows.append({"scenario": name, "reference": row.reference, "metric": metric,
                         "n": len(seeds), "mean": m, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["scenario", "reference", "metric", "n", "mean",
                                       "ci_low", "ci_high"])


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
    holds = {}
    for name in ctx.table.index:
        dirs = ctx.runs.loc[ctx.runs.scenario == name, "run_dir"]
        h = pd.concat([sim_io.read_holds(ctx.study / d).to_pandas() for d in dirs])
        if h.calls.sum() > 0:
            holds[name] = h[["minutes", "calls"]]
    if not holds:
        raise Skipped("no call was held in any run")
    first = ctx.runs.groupby("scenario").first()
    promises = {n: float(first.loc[n, "policy.promised_wait_minutes"])
                for n in holds if first.loc[n, "policy.promise"] == "fixed"}
    return plotting.hold_distributions(holds, promises, ctx.out)


def _fig_churn(ctx) -> list[Path]:
    cols = [f"churned_{r}" for r in REASONS]
    means = ctx.runs.groupby("scenario")[cols].mean().loc[list(ctx.table.index)]
    if means.to_numpy().sum() == 0:
        raise Skipped("no customer left in any run")
    return plotting.churn_by_reason(means, ctx.out)


def _story(events: pd.DataFrame, products: int, scenario: str, seed: int) -> str:
    """One sentence of a customer's journey, from their events."""
    parts = []
    rise = events[events.event == "price_change"]
    if len(rise):
        r = rise.iloc[-1]
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
    return f"{scenario}, seed {seed}: a {products}-product customer: " + ", ".join(parts)


def _fig_journeys(ctx) -> list[Path]:
    """The story's customer: a sampled customer who saw a price change, judged it unfair and
    left, holding as many products as possible (the platinum customer of the silent hike);
    searched in up to ``STORY_RUNS`` runs, non-reference scenarios first."""
    best, best_score = None, None
    candidates = ctx.runs.assign(ref=ctx.runs.scenario.map(ctx.table.is_reference)) \
        .sort_values(["ref", "seed", "scenario"]).head(STORY_RUNS)
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
            score = (story, int(products[cust]), "churned" in kinds, len(kinds))
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
    return plotting.journey_timeline(events, story, ctx.out)


FIGURES = (("retention_curves", "Retention per scenario, 95% bands across replications",
            _fig_retention),
           ("paired_differences", "Paired differences against the reference, 95% CIs",
            _fig_differences),
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
        self.table = scenarios(self.runs, self.dims, self.info["baseline"])
        self.diff = differences(self.runs, self.table, diff_metrics(self.runs))


# -- report.md --------------------------------------------------------------------------------
def _cell(values, fmt: str) -> str:
    m, lo, hi = mean_ci(values)
    return fmt.format(m) if np.isnan(lo) else \
        f"{fmt.format(m)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _span(values: pd.Series) -> str:
    lo, hi = int(values.min()), int(values.max())
    return f"{lo:,}" if lo == hi else f"{lo:,} to {hi:,}"


def answers(diff: pd.DataFrame, years: float) -> list[str]:
    """One sentence per scenario with a reference, from its paired differences: customers
    lost, year-one revenue and profit, the profit of each later year, NPV of profit over the
    horizon and customer equity (NPV plus the discounted future value of the customers left
    at the end), each as mean [95% CI]; metrics missing from ``diff`` are left out."""
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
                     f"{years:g} years {part(d, 'npv_profit')}{equity}.")
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
    lines += [f"{len(runs)} complete runs in {len(ctx.table)} scenarios, "
              f"{_span(seeds)} replications (seeds) each; "
              f"{_span(runs.customers_start)} customers at the start, "
              f"{_span(runs.days)} days. Swept: "
              f"{', '.join(ctx.dims)} (and the seed). Baseline: "
              + ", ".join(f"{k}={v}" for k, v in info["baseline"].items())
              + ". Mean [95% CI] across replications."
              + (f" Left out: {info['runs_left_out']} run(s) made by other versions of the "
                 "model's code." if info.get("runs_left_out") else ""), "",
              "| scenario | " + " | ".join(t[1] for t in columns) + " |",
              "|---" * (len(columns) + 1) + "|"]
    for scenario in ctx.table.index:
        r = runs[runs.scenario == scenario]
        lines.append(f"| {scenario} | " + " | ".join(_cell(r[c], f) for c, _, f in columns)
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
                  "mean [95% CI]:", ""] + answers(ctx.diff, years)
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
    except (FileNotFoundError, StudyDamaged) as err:  # no run, or a damaged one: refused
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    path = report(args.study, progress=not args.no_progress)
    print(f"{PROG}: wrote {path} and its figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
