"""Validation: the model's parts agree with theory (cxsim-validate).

The command line: runs the registered checks (``sim.validation.registry``; importing this
module registers those of ``sim.validation.queueing_checks`` and, after them,
``sim.validation.calibration_checks``, in the order of the report), prints a table, writes
``<out>/checks.csv``, ``<out>/report.md``, the Erlang A sweep table behind the figure and
the figure (PNG + PDF), and exits non-zero if a check fails that is not a known open target
(with ``--strict``, if any check fails).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path

from sim.validation import calibration_checks  # noqa: F401  (registers every check)
from sim.validation.queueing_checks import SILO_SETUP, erlang_a_sweep, plot_erlang_a
from sim.validation.registry import REGISTRY, CheckResult, Settings, register, run_checks

# with the registry's names: this module alone runs, extends and tests cxsim-validate
__all__ = ["REGISTRY", "CheckResult", "Settings", "register", "run_checks", "erlang_a_sweep",
           "plot_erlang_a", "fmt", "format_table", "write_report", "main"]


def _write_csv(rows: list[dict], path: Path) -> None:
    """Write ``rows`` (dicts with the same keys) as a CSV table with a header."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def fmt(x: float | None) -> str:
    """A number as the tables show it (4 significant digits; "-" for none)."""
    if x is None:
        return "-"
    return f"{x:.4g}"


def _pct(x: float) -> str:
    """A relative error as a signed percentage ("-" when undefined)."""
    return f"{100 * x:+.2f}%" if math.isfinite(x) else "-"


def format_table(rows: list[CheckResult]) -> str:
    """The rows as the plain-text table ``cxsim-validate`` prints."""
    head = f"{'check':<21} {'quantity':<16} {'expected':>10} {'simulated':>10} {'SE':>9} " \
           f"{'rel.err':>8} {'tol':>5}  result"
    lines = [head, "-" * len(head)]
    for r in rows:
        tol = r.tolerance_text if r.rule != "within" else f"{100 * r.tolerance:.0f}%"
        lines.append(f"{r.check:<21} {r.quantity[:16]:<16} {fmt(r.expected):>10} "
                     f"{fmt(r.simulated):>10} {fmt(r.se):>9} {_pct(r.rel_error):>8} "
                     f"{tol:>5}  {r.verdict.upper()}")
    return "\n".join(lines)


def write_report(rows: list[CheckResult], out: Path, settings: Settings, seconds: float,
                 figures: list[Path]) -> Path:
    """Write ``<out>/report.md``: the rows, how the calibration numbers are measured, the
    known open targets and the figures."""
    failed = [r for r in rows if not r.passed]
    open_ = [r for r in failed if r.open_target]
    lines = [
        "# Validation: the model's parts agree with theory, and its defaults with the "
        "published findings",
        "",
        f"**{len(rows) - len(failed)} of {len(rows)} checks pass**"
        + (f" ({len(open_)} failing rows are known open targets, listed below)" if open_
           else "") + ". "
        f"Mode: {'quick' if settings.quick else 'full'}, root seed {settings.seed}, "
        f"{seconds:.1f} s.",
        "",
        "Pass rule: |simulated - expected| <= tolerance x |expected|, and a check must be "
        "able to fail: 3 SE <= tolerance x |expected| (otherwise *underpowered*, counted as a "
        "failure). Direction rows pass when the simulated value lies on the claimed side of "
        "the expected one by more than 3 SE. SE: batch means over days for the silo (30 "
        "groups of consecutive days), independent customers for the cohort; for the "
        "calibration checks as stated in each note (clustered by household, Poisson counts "
        "of departures, binomial shares, paired customers or paired replicate runs).",
        "",
        SILO_SETUP,
        "",
        "| # | claim | source | quantity | expected | simulated | SE | rel. error | "
        "tolerance | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k, r in enumerate(rows, 1):
        lines.append(f"| {k} | {r.claim} | {r.source} | {r.quantity} | {fmt(r.expected)} | "
                     f"{fmt(r.simulated)} | {fmt(r.se)} | {_pct(r.rel_error)} | "
                     f"{r.tolerance_text} | {r.verdict} |")
    notes: dict[str, list[int]] = {}
    for k, r in enumerate(rows, 1):
        if r.note:
            notes.setdefault(r.note, []).append(k)
    if notes:
        lines += ["", "## How the calibration numbers are measured", ""]
        lines += [f"- **#{', #'.join(map(str, ks))}** ({rows[ks[0] - 1].check}): {note}"
                  for note, ks in notes.items()]
    if open_:
        lines += ["", "## Known open targets", ""]
        lines += [f"- **{r.check}**, {r.quantity}: expected {fmt(r.expected)}, simulated "
                  f"{fmt(r.simulated)}. {r.open_target}" for r in open_]
    lines += ["", "## Figures", ""]
    for path in figures:
        if path.suffix == ".png":
            lines.append(f"![{path.stem}]({path.name})")
    lines += ["", "Tables: `checks.csv` (the rows above), `erlang_a_sweep.csv` (the figure).",
              ""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report


def main(argv: list[str] | None = None) -> int:
    """``cxsim-validate``: 0 if every check passes or is a known open target, 1 if one
    fails (with ``--strict``, any failing row), 2 for a negative ``--seed``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/validation", type=Path)
    ap.add_argument("--quick", action="store_true", help="smaller samples (seconds)")
    ap.add_argument("--seed", default=0, type=int, help="root seed of every simulation")
    ap.add_argument("--only", nargs="+", metavar="CHECK", choices=list(REGISTRY),
                    help=f"run only these checks (of {', '.join(REGISTRY)})")
    ap.add_argument("--strict", action="store_true",
                    help="known open targets that fail also make the exit status non-zero")
    args = ap.parse_args(None if argv is None else [str(a) for a in argv])
    if args.seed < 0:
        print(f"cxsim-validate: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    settings = Settings(quick=args.quick, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows = run_checks(settings, args.only, REGISTRY)  # this module's name: tests swap it
    _write_csv([{**asdict(r), "rel_error": r.rel_error, "status": r.status,
                 "known_open": bool(r.open_target)} for r in rows],
               args.out / "checks.csv")
    sweep = args.out / "erlang_a_sweep.csv"
    _write_csv(erlang_a_sweep(settings), sweep)
    figures = plot_erlang_a(sweep, args.out)
    report = write_report(rows, args.out, settings, time.time() - started, figures)
    print(format_table(rows))
    failed = sum(not r.passed for r in rows)
    blocking = sum(r.blocking for r in rows)
    print(f"\n{len(rows) - failed}/{len(rows)} checks pass ({failed - blocking} failing rows "
          f"are known open targets); wrote {report} and "
          f"{', '.join(p.name for p in figures)}", file=sys.stderr)
    return 1 if blocking or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
