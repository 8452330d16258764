"""Reproduce the calibration of the default parameters (issue 6).

Question: do the default parameters reproduce the calibration targets in MODEL-NOTES.md,
and how does each target move when its tunable parameter moves around the default?

    PYTHONPATH=. python experiments/calibration.py            # full size, a few minutes
    PYTHONPATH=. python experiments/calibration.py --quick    # smaller runs

Writes ``results/calibration/``: ``checks.csv`` (the calibration checks of
``cxsim-validate`` at full size), ``sweeps.csv`` (one row per swept value: parameter,
value, seed, the targets it moves) and ``report.md`` (both tables). Every run derives its
seed from one root seed; the values of a sweep share their seeds (paired).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from sim.validation import calibration as C
from sim.validation.calibration_checks import (CONTAGION_WINDOW_DAYS, ELASTICITY_RISE,
                                               ISSUE_WINDOW_DAYS)
from sim.validation.cli import fmt, format_table
from sim.validation.registry import Settings, run_checks
from sim.runs.config import policy_params
from sim.core.params import SimParams

CALIBRATION_CHECKS = ("retention", "fairness", "service_outcomes", "contagion",
                      "renewal_elasticity", "price_walking", "silent_hike")

# (parameter, values around the default): the tunable parameters behind the targets;
# DEFAULT stands for the parameter's default in sim.core.params
DEFAULT = None
SWEEPS = (
    ("behaviour.base_annual_hazard", (0.07, DEFAULT, 0.15)),
    ("behaviour.products_exponent", (1.86, DEFAULT, 2.5)),
    ("behaviour.contagion_hazard_ratio", (1.8, DEFAULT, 2.5)),
    ("behaviour.resolved_high_effort", (-0.15, DEFAULT, -0.75)),
    ("behaviour.unresolved", (-0.30, DEFAULT, -1.2)),
    ("behaviour.beta_price", (0.5, DEFAULT, 2.0)),
    # how strongly customers must answer an unfair rise before the silent hike stops paying
    ("behaviour.beta_unfair", (0.0, DEFAULT, 2.0, 3.0, 4.0)),
    ("behaviour.unfair_full_rise", (DEFAULT, 0.1, 0.2, 0.3)),
    ("behaviour.unfair_exit_next_renewal", (DEFAULT, 0.25, 0.5, 0.75, 1.0)),
    ("policy.price_walking_per_year", (0.01, 0.02, 0.04)),  # 0.02: policy price_walking
)
# parameters of the response to a price rise: their rows measure renewal semi-elasticities
# and the silent hike against the baseline
PRICE_RESPONSE = ("behaviour.beta_price", "behaviour.beta_unfair", "behaviour.unfair_full_rise",
                  "behaviour.unfair_exit_next_renewal")


def sweep_values(key: str, values: tuple) -> tuple:
    """``values`` with DEFAULT replaced by the parameter's default."""
    group, name = key.split(".")
    default = getattr(getattr(SimParams(), group), name)
    return tuple(default if v is DEFAULT else v for v in values)


def sweep_row(key: str, value: float, size: int, reps: int, seed: int) -> dict:
    """The targets a parameter moves, measured at one value (paired seeds across values)."""
    row = {"parameter": key, "value": value, "seed": seed, "customers": size,
           "replicates": reps}
    if key == "policy.price_walking_per_year":  # one 10-year run
        w = C.loyalty_penalty(size, C.replicate_seed(seed, 300), **{key: value})
        row.update(replicates=1, margin_gap_pp=w["gap_pp"])
        return row
    if key in PRICE_RESPONSE:
        # renewal semi-elasticities (paired 90-day runs, four times the customers) of +10%
        # cost-explained and unexplained and of the silent hike's rise unexplained; then
        # the silent hike against the baseline at the same value
        hike = policy_params("silent_hike")["price_change"]
        for name, rise, expl in (("cost", ELASTICITY_RISE, "cost"),
                                 ("none", ELASTICITY_RISE, "none"),
                                 ("hike_none", hike, "none")):
            row[f"semi_elasticity_{name}"] = C.renewal_semi_elasticity(
                size * 4, C.replicate_seed(seed, 200), rise, expl,
                **{key: value})["semi_elasticity"]
        pairs = []
        for r in range(reps):
            runs = [C.run(C.make_params(size, 3 * 365, C.replicate_seed(seed, r), policy=pol,
                                        **{key: value})) for pol in ("baseline", "silent_hike")]
            pairs.append(C.silent_hike_pair(*runs))
        rev, npv = C.silent_hike_changes(pairs)
        row["hike_revenue_year1_pct"], row["hike_npv_3y_pct"] = rev.mean(), npv.mean()
        row["hiked_extra_left_share"] = sum(p["extra_left"] for p in pairs) / max(
            sum(p["hiked"] for p in pairs), 1)
        return row
    models = [C.run(C.make_params(size, 3 * 365, C.replicate_seed(seed, r), journeys=True,
                                  **{key: value})) for r in range(reps)]
    ends = [C.Ends.of(m) for m in models]
    row["retention"] = C.annual_retention(ends)[0]
    row["retention_single"] = C.annual_retention(ends, lambda e: e.products == 1)[0]
    row["retention_bundles"] = C.annual_retention(ends, lambda e: e.products >= 2)[0]
    g = C.issue_outcome_hazards(models, ISSUE_WINDOW_DAYS)
    row["stay_high_effort"] = 0.61 ** g["hazard_ratio"][1]
    row["stay_unresolved"] = 0.61 ** g["hazard_ratio"][2]
    obs, exp_, days, _ = C.contagion_tallies(models, CONTAGION_WINDOW_DAYS, 5.0)
    row["contagion_hr"] = C.fit_decaying_ratio(obs.sum(axis=0), exp_.sum(axis=0),
                                               days)["hazard_ratio"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/calibration", type=Path)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", default=0, type=int)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    settings = Settings(quick=args.quick, seed=args.seed)
    rows = run_checks(settings, list(CALIBRATION_CHECKS))
    print(format_table(rows))
    with open(args.out / "checks.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["check", "quantity", "expected", "simulated", "se", "rule", "tolerance",
                    "status", "known_open", "claim", "source"])
        for r in rows:
            w.writerow([r.check, r.quantity, r.expected, r.simulated, r.se, r.rule,
                        r.tolerance, r.status, bool(r.open_target), r.claim, r.source])
    size, reps = (6_000, 2) if args.quick else (15_000, 3)
    sweep = []
    for key, values in SWEEPS:
        for value in sweep_values(key, values):
            row = {k: (float(v) if isinstance(v, np.floating) else v)
                   for k, v in sweep_row(key, value, size, reps, args.seed).items()}
            sweep.append(row)
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                     if k not in ("seed", "customers", "replicates")}
            print(shown, file=sys.stderr, flush=True)
    columns = list(dict.fromkeys(k for r in sweep for k in r))
    with open(args.out / "sweeps.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(sweep)
    lines = ["# Calibration of the default parameters", "",
             f"Root seed {args.seed}, {'quick' if args.quick else 'full'} size, "
             f"{time.time() - started:.0f} s. Checks as in `cxsim-validate` "
             "(results/validation/report.md has the notes on how each is measured).", "",
             "| check | quantity | expected | simulated | SE | result |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.check} | {r.quantity} | {fmt(r.expected)} | "
                     f"{fmt(r.simulated)} | {fmt(r.se)} | {r.verdict} |")
    lines += ["", f"## Sweeps around the defaults ({reps} replicates x {size:,} customers x "
              "3 years per value unless the row says otherwise, paired seeds; price walking: "
              "one 10-year run; semi-elasticities: paired 90-day runs on four times the customers, "
              "of +10% and of the silent hike's +60%; hike columns: the silent hike against "
              "the baseline at the same value, paired)", "",
              "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in sweep:
        lines.append("| " + " | ".join(f"{r[c]:.4g}" if isinstance(r.get(c), float)
                                       else str(r.get(c, "")) for c in columns) + " |")
    (args.out / "report.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}/report.md, checks.csv, sweeps.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
