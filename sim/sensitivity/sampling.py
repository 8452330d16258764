"""Sample designs from SALib: Latin hypercube, Morris trajectories, Sobol (Saltelli).

``design(space, method, n, ...)`` returns the sampled matrix (one row per point, in the
space's bounds: what SALib's analysis reads back) and each point's parameter values (ints
rounded, choices picked: what the runs are given). The same arguments give the same design,
so a sweep run again makes the same runs (and skips the complete ones).

Sizes: ``lhs``: ``n`` points; ``morris``: ``n`` trajectories of D + 1 points each;
``sobol``: ``n`` base samples (a power of two), n (D + 2) points, or n (2D + 2) with
second-order indices.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.params import ParamError
from sim.sensitivity.space import Space

METHODS = ("lhs", "morris", "sobol")
DESIGN = "design.json"


@dataclass
class Design:
    method: str
    settings: dict
    space: Space
    X: np.ndarray                 # points x parameters, as SALib samples them
    values: list[dict[str, Any]]  # each point's parameter values

    def to_json(self) -> dict:
        return {"method": self.method, "settings": self.settings, "names": self.space.names,
                "kinds": [d.kind for d in self.space.dims],
                "bounds": [d.bounds for d in self.space.dims],
                "choices": [list(d.choices) for d in self.space.dims],
                "X": self.X.tolist(), "values": self.values}


def n_points(method: str, n: int, d: int, second_order: bool = False) -> int:
    return {"lhs": n, "morris": n * (d + 1),
            "sobol": n * (2 * d + 2 if second_order else d + 2)}[method]


def design(space: Space, method: str, n: int, seed: int = 0, levels: int = 4,
           second_order: bool = False) -> Design:
    """The sample of ``space`` by ``method``; ParamError on settings SALib cannot use."""
    if method not in METHODS:
        raise ParamError(f"hydra.sweeper.method={method}: must be one of {', '.join(METHODS)}")
    if not isinstance(n, int) or n < 1:
        raise ParamError(f"hydra.sweeper.n={n}: must be an integer >= 1")
    problem = space.problem()
    settings: dict[str, Any] = {"n": n, "seed": seed}
    if method == "lhs":
        from SALib.sample import latin
        X = latin.sample(problem, n, seed=seed)
    elif method == "morris":
        if n < 2:
            raise ParamError(f"hydra.sweeper.n={n}: Morris needs at least 2 trajectories")
        if levels < 2 or levels % 2:
            raise ParamError(f"hydra.sweeper.levels={levels}: must be an even integer >= 2")
        from SALib.sample import morris
        X = morris.sample(problem, n, num_levels=levels, seed=seed)
        settings["levels"] = levels
    else:
        if n & (n - 1):
            raise ParamError(f"hydra.sweeper.n={n}: Sobol's base sample must be a power of "
                             "two (e.g. 64, 128, 256)")
        from SALib.sample import sobol
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = sobol.sample(problem, n, calc_second_order=second_order, scramble=True,
                             seed=seed)
        settings["second_order"] = second_order
    X = np.asarray(X, float)
    return Design(method, settings, space, X, [space.values(row) for row in X])


def write_design(path: Path | str, d: Design) -> None:
    from sim.runs.io import write_json
    write_json(Path(path), d.to_json())


def read_design(path: Path | str) -> dict:
    data = json.loads(Path(path).read_text())
    data["X"] = np.asarray(data["X"], float)
    return data
