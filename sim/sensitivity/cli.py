"""``cxsim-analyse results/<study>``: which assumptions drive the answers of a sample-design
study, where a condition holds (PRIM), and the Pareto front of a policy search.

    cxsim-analyse results/sensitivity_silent_hike \\
        --condition 'silent_hike-baseline:customer_equity<0'
    cxsim-analyse results/optimise_policy

A study made by a sample-design sweeper (``design.json``, ``sim.sensitivity.sweeper``) is
collected (``runs.parquet``; a damaged run refuses the study, exit status 2) and its runs
mapped back to the design's points. For every target (``--metrics`` of each policy, each
policy minus the baseline, the silent hike minus the explained hike; more with
``--target``), paired per point and seed: Morris mu*, mu and sigma (with a bootstrap CI of
mu*), or Sobol first-order and total indices with bootstrap CIs, into
``sensitivity.parquet`` (one row per target and parameter) with figures
``sensitivity_<method>_<target>.png``; the targets at each point into
``sensitivity_points.parquet``. ``--condition`` runs PRIM on the points:
``prim.parquet`` (each box's restricted parameters, coverage, density, mass),
``prim_tradeoff.png`` (the peeling trajectory and the chosen box), ``prim_box.png``.

A policy search (``optuna.db``, ``hydra/sweeper=cxsim_optuna``): every trial into
``trials.parquet``, its Pareto front into ``pareto.parquet`` and ``pareto.png``.

Both write their section of ``report.md`` (between ``<!-- cxsim-analyse -->`` markers; the
rest of the file, e.g. cxsim-report's, is kept). A mistake (no such study, a target of a
policy the study lacks, points without their runs) is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.params import ParamError
from sim.runs import io as sim_io
from sim.runs.study import StudyDamaged, collect, read_study_info
from sim.sensitivity import plots
from sim.sensitivity.analysis import Target, default_targets, indices, point_table, target_values
from sim.sensitivity.prim import condition_holds, find_boxes, parse_condition
from sim.sensitivity.sampling import DESIGN, read_design
from sim.sensitivity.sweeper import OPTUNA_DB

PROG = "cxsim-analyse"
METRICS = ("customer_equity", "profit_year1")
SENSITIVITY = "sensitivity.parquet"
POINTS = "sensitivity_points.parquet"
PRIM = "prim.parquet"
TRIALS = "trials.parquet"
PARETO = "pareto.parquet"
START, END = "<!-- cxsim-analyse: start -->", "<!-- cxsim-analyse: end -->"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _slug(label: str) -> str:
    return label.replace(":", "_")


def _fmt(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:,.3g}"


# -- sample-design studies --------------------------------------------------------------------
def analyse_design(study: Path, metrics, extra_targets, condition, min_density, max_boxes,
                   resamples, seed, progress=False) -> list[str]:
    runs, _ = collect(study, progress=progress)
    design = read_design(study / DESIGN)
    info = read_study_info(study)
    baseline = info["baseline"].get("policy", "baseline")
    n = len(design["values"])
    points = point_table(runs, design, metrics)
    policies = sorted(points.policy.unique())
    targets = default_targets(policies, metrics, baseline) \
        + [Target.parse(t) for t in extra_targets]
    cond = parse_condition(condition) if condition else None
    if cond and cond[0] not in targets:
        targets.append(cond[0])
    values, tables = {}, []
    for t in targets:
        y = target_values(points, t, n)
        values[t.label] = y
        idx = indices(design, y, seed=seed, resamples=resamples)
        idx.insert(0, "target", t.label)
        idx.insert(1, "method", design["method"])
        tables.append(idx)
    table = pd.concat(tables, ignore_index=True)
    sim_io.write_parquet(study / SENSITIVITY, _arrow(table))
    pts = pd.DataFrame(design["values"]).assign(point=range(n))
    for label, y in values.items():
        pts[label] = y
    sim_io.write_parquet(study / POINTS, _arrow(pts))

    lines = [f"## Sensitivity: {design['method']} design of {len(design['names'])} "
             f"assumptions, {n} points", "",
             f"Policies {', '.join(policies)}; {runs.seed.nunique()} seed(s) per point and "
             "policy, the same for every policy (paired). Parameters and ranges: "
             f"{DESIGN}; indices: {SENSITIVITY}; targets per point: {POINTS}.", ""]
    figures = []
    for old in study.glob("sensitivity_*.p[nd][gf]"):  # never a stale figure
        old.unlink()
    for t in targets:
        idx = table[table.target == t.label]
        y = values[t.label]
        lines += [f"### {t.text}", "",
                  f"Across the points: mean {_fmt(y.mean())}, from {_fmt(y.min())} to "
                  f"{_fmt(y.max())}; below 0 at {np.mean(y < 0):.0%} of the points.", ""]
        name = f"sensitivity_{design['method']}_{_slug(t.label)}"
        if design["method"] == "morris":
            top = idx.sort_values("mu_star", ascending=False).head(8)
            lines += ["| parameter | mu* | 95% CI | mu | sigma |", "|---|---|---|---|---|"]
            lines += [f"| {r.parameter} | {_fmt(r.mu_star)} | +-{_fmt(r.mu_star_conf)} | "
                      f"{_fmt(r.mu)} | {_fmt(r.sigma)} |" for r in top.itertuples()]
            figures.append(plots.morris(idx, t.label, study, name))
        elif design["method"] == "sobol":
            top = idx.sort_values("ST", ascending=False).head(8)
            lines += ["| parameter | S1 | 95% CI | ST | 95% CI |", "|---|---|---|---|---|"]
            lines += [f"| {r.parameter} | {r.S1:.3f} | +-{r.S1_conf:.3f} | {r.ST:.3f} | "
                      f"+-{r.ST_conf:.3f} |" for r in top.itertuples()]
            figures.append(plots.sobol(idx, t.label, study, name))
        else:
            lines += ["A Latin hypercube has no indices: see PRIM below, or the points."]
        if design["method"] in ("morris", "sobol"):
            lines += ["", f"![{name}]({name}.png) ([PDF]({name}.pdf))"]
        lines.append("")
    if cond:
        lines += prim_section(study, design, values, cond, condition, min_density, max_boxes)
    return lines


def _arrow(df: pd.DataFrame):
    import pyarrow as pa
    return pa.Table.from_pandas(df, preserve_index=False)


def prim_section(study, design, values, cond, text, min_density, max_boxes) -> list[str]:
    target, op, thr = cond
    y = condition_holds(values[target.label], op, thr)
    X = pd.DataFrame(design["values"])[design["names"]]
    lines = [f"### Scenario discovery (PRIM): where {target.text} is {op} {thr:g}", "",
             f"The condition holds at {int(y.sum())} of {len(y)} points ({y.mean():.0%})."]
    for ext in ("png", "pdf"):
        for name in ("prim_tradeoff", "prim_box"):
            (study / f"{name}.{ext}").unlink(missing_ok=True)
    boxes = find_boxes(X, y, min_density=min_density, max_boxes=max_boxes) if y.any() else []
    rows = []
    for b in boxes:
        lines += ["", f"Box {b.number}: coverage {b.coverage:.0%}, density {b.density:.0%}, "
                      f"mass {b.mass:.0%} (step {b.chosen} of {len(b.trajectory) - 1} of the "
                      "peeling)", ""]
        if b.limits.empty:
            lines.append("No assumption restricted: the condition holds throughout.")
        else:
            lines += ["| assumption | in the box | sampled range |", "|---|---|---|"]
            for r in b.limits.itertuples():
                inside = getattr(r, "choices", None) if not np.isfinite(r.low) else \
                    f"{r.low:.4g} to {r.high:.4g}"
                whole = "" if not np.isfinite(r.low) else f"{r.full_low:.4g} to {r.full_high:.4g}"
                lines.append(f"| {r.parameter} | {inside} | {whole} |")
        for r in (b.limits.to_dict("records") or [{"parameter": None}]):
            rows.append({"condition": text, "box": b.number, "coverage": b.coverage,
                         "density": b.density, "mass": b.mass, **r})
    if not boxes:
        where = "at every point" if y.all() else "at no point" if not y.any() else \
            "without a box of enough density"
        lines += ["", f"No box: the condition holds {where}."]
    sim_io.write_parquet(study / PRIM, _arrow(pd.DataFrame(rows)))
    if boxes:
        b = boxes[0]
        plots.prim_tradeoff(b.trajectory, b.chosen, text, study, "prim_tradeoff")
        if not b.limits.empty:
            plots.prim_box(b.limits, text, b.coverage, b.density, study, "prim_box")
            lines += ["", "![prim_box](prim_box.png) ([PDF](prim_box.pdf))"]
        lines += ["", "![prim_tradeoff](prim_tradeoff.png) ([PDF](prim_tradeoff.pdf))"]
    lines.append("")
    return lines


# -- policy searches --------------------------------------------------------------------------
def trials_table(storage: str, study_name: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every trial of an optuna study: number, state, levers, objective values, and whether
    it is on the Pareto front. Returns (table, objective names)."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = optuna.get_all_study_names(storage)
    if not names:
        raise ParamError(f"{storage}: no optuna study")
    s = optuna.load_study(study_name=study_name or names[0], storage=storage)
    objectives = list(s.user_attrs.get("objectives") or
                      [f"objective_{i}" for i in range(len(s.directions))])
    front = {t.number for t in s.best_trials}
    rows = []
    for t in s.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name, "pareto": t.number in front,
               **{f"lever.{k}": v for k, v in t.params.items()}}
        for name, v in zip(objectives, t.values or [np.nan] * len(objectives)):
            row[name] = v
        rows.append(row)
    return pd.DataFrame(rows), objectives


def analyse_search(study: Path) -> list[str]:
    storage = f"sqlite:///{(study / OPTUNA_DB).resolve()}"
    trials, objectives = trials_table(storage)
    sim_io.write_parquet(study / TRIALS, _arrow(trials))
    done = trials[trials.state == "COMPLETE"]
    front = done[done.pareto].sort_values(objectives[0], ascending=False)
    sim_io.write_parquet(study / PARETO, _arrow(front))
    levers = [c for c in trials.columns if c.startswith("lever.")]
    lines = [f"## Policy search: {len(done)} complete trials, {len(front)} on the Pareto "
             f"front of {' and '.join(objectives)}", "",
             f"Trials: {TRIALS}; the front: {PARETO}. Objectives are means over the same "
             "seeds for every trial (paired).", "",
             "| trial | " + " | ".join(objectives) + " | " + " | ".join(
                 _short(c) for c in levers) + " |",
             "|---" * (1 + len(objectives) + len(levers)) + "|"]
    for r in front.to_dict("records"):
        cells = [str(r["trial"])] + [f"{r[o]:,.0f}" for o in objectives] + [
            f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in levers]
        lines.append("| " + " | ".join(cells) + " |")
    if len(objectives) >= 2 and len(done):
        plots.pareto(done, objectives, study, "pareto")
        lines += ["", "![pareto](pareto.png) ([PDF](pareto.pdf))"]
    lines.append("")
    return lines


def write_section(study: Path, lines: list[str]) -> Path:
    path = study / "report.md"
    old = path.read_text() if path.is_file() else f"# {study.name}\n"
    if START in old and END in old:
        old = old[:old.index(START)].rstrip() + "\n" + old[old.index(END) + len(END):].lstrip()
    text = old.rstrip() + "\n\n" + START + "\n" + "\n".join(lines).rstrip() + "\n" + END + "\n"
    sim_io.write_text(path, text)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("study", type=Path, help="a study's results directory, results/<study>")
    ap.add_argument("--metrics", default=",".join(METRICS),
                    help="summary numbers analysed (default: %(default)s)")
    ap.add_argument("--target", action="append", default=[],
                    help="another target, policy:metric or policy-reference:metric")
    ap.add_argument("--condition", help="PRIM's condition, e.g. "
                    "'silent_hike-baseline:customer_equity<0'")
    ap.add_argument("--density", type=float, default=0.8,
                    help="PRIM: least density of a reported box (default: %(default)s)")
    ap.add_argument("--boxes", type=int, default=2, help="PRIM: boxes at most (default: 2)")
    ap.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0, help="the bootstrap's seed")
    args = ap.parse_args(argv)
    study = args.study
    try:
        if not study.is_dir():
            raise ParamError(f"{study}: no such directory")
        lines = []
        if (study / DESIGN).is_file():
            lines += analyse_design(study, [m for m in args.metrics.split(",") if m],
                                    args.target, args.condition, args.density, args.boxes,
                                    args.resamples, args.seed)
        if (study / OPTUNA_DB).is_file():
            lines += analyse_search(study)
        if not lines:
            raise ParamError(f"{study}: neither a sample-design study ({DESIGN}) nor a policy "
                             f"search ({OPTUNA_DB})")
    except (ParamError, StudyDamaged, FileNotFoundError) as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    path = write_section(study, lines)
    print(f"{PROG}: wrote {path}, its tables and figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
