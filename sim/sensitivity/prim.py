"""Scenario discovery with PRIM (Friedman & Fisher 1999), EMA Workbench's implementation.

``find_boxes(X, y)``: the boxes of the parameter space where a condition (``y``, one boolean
per point, e.g. "the silent hike's customer-equity gain against the baseline is below 0")
is concentrated. For each box: its peeling trajectory (coverage: the share of all points
meeting the condition that lie in the box; density: the share of the box's points that meet
it; mass: the box's share of all points), the chosen step (the one of largest coverage with
at least ``min_density``, else the densest) and its limits on the restricted parameters.
Further boxes are searched among the points outside the earlier ones (EMA's covering).

``parse_condition``: ``target<threshold`` or ``target>threshold`` (``sim.sensitivity.analysis
.Target``).
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.params import ParamError
from sim.sensitivity.analysis import Target

CONDITION = re.compile(r"^\s*(?P<target>[^<>]+?)\s*(?P<op>[<>])\s*(?P<thr>[-+0-9.eE]+)\s*$")


def parse_condition(text: str) -> tuple[Target, str, float]:
    m = CONDITION.match(text)
    if not m:
        raise ParamError(f"--condition {text!r}: must be target<number or target>number, e.g. "
                         "'silent_hike-baseline:customer_equity<0'")
    try:
        thr = float(m["thr"])
    except ValueError as err:
        raise ParamError(f"--condition {text!r}: {m['thr']} is not a number") from err
    return Target.parse(m["target"]), m["op"], thr


def condition_holds(y: np.ndarray, op: str, thr: float) -> np.ndarray:
    return y < thr if op == "<" else y > thr


@dataclass
class Box:
    number: int
    trajectory: pd.DataFrame     # coverage, density, mass, res_dim per peeling step
    chosen: int                  # the step reported
    limits: pd.DataFrame         # restricted parameters: parameter, low, high, full_low, full_high
    coverage: float
    density: float
    mass: float


def _quiet():
    logging.getLogger("EMA").setLevel(logging.ERROR)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("EMA") or name.startswith("ema_workbench"):
            logging.getLogger(name).setLevel(logging.ERROR)


def find_boxes(X: pd.DataFrame, y: np.ndarray, min_density: float = 0.8, max_boxes: int = 2,
               peel_alpha: float = 0.05, mass_min: float = 0.05) -> list[Box]:
    """PRIM boxes where ``y`` (booleans) holds; at most ``max_boxes``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema_prim
    _quiet()
    y = np.asarray(y, bool)
    if y.all() or not y.any():  # nothing to tell apart
        return []
    x = X.reset_index(drop=True).copy()
    for c in x.columns:
        if x[c].dtype == object or x[c].dtype == bool:
            x[c] = x[c].astype(str).astype("category")
        else:
            x[c] = x[c].astype(float)
    full = {c: (x[c].min(), x[c].max()) for c in x.columns if x[c].dtype != "category"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = ema_prim.Prim(x, y.astype(int), threshold=min_density, peel_alpha=peel_alpha,
                          mass_min=mass_min)
        boxes = []
        for k in range(max_boxes):
            box = p.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
            ok = traj[traj.density >= min_density]
            chosen = int(ok.coverage.idxmax()) if not ok.empty else int(traj.density.idxmax())
            box.select(chosen)
            lims = box.box_lims[chosen]
            rows = []
            for c in x.columns:
                if c in full:
                    lo, hi = float(lims.loc[0, c]), float(lims.loc[1, c])
                    if lo > full[c][0] or hi < full[c][1]:
                        rows.append({"parameter": c, "low": lo, "high": hi,
                                     "full_low": full[c][0], "full_high": full[c][1]})
                else:
                    kept = set(lims.loc[0, c])
                    if kept != set(x[c].cat.categories):
                        rows.append({"parameter": c, "low": np.nan, "high": np.nan,
                                     "full_low": np.nan, "full_high": np.nan,
                                     "choices": ",".join(sorted(map(str, kept)))})
            t = traj.loc[chosen]
            boxes.append(Box(k + 1, traj.reset_index(drop=True), chosen, pd.DataFrame(rows),
                             float(t.coverage), float(t.density), float(t.mass)))
            if t.coverage >= 0.999:
                break
    return boxes
