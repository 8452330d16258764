"""Pinned results (after Starsim's tests/test_baselines.py): a few seeded runs, composed as
``cxsim-run`` composes them, must reproduce their ``model.summary()`` in
tests/core/baselines.json exactly, floats included (compared after a JSON round trip).

A change to the model that moves any number fails here, key by key (old -> new). When the
change is meant, regenerate the file on purpose and commit it with the change:

    python -m tests.core.test_baselines --regenerate
    CXSIM_REGENERATE_BASELINES=1 python -m tests.core.test_baselines   # the same

(from the repository root). Without either, the module only prints what moved. The test
itself never writes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import pytest

from sim.core.model import LoyaltyModel
from sim.runs.config import compose, params_from_cfg

BASELINES = Path(__file__).with_name("baselines.json")
POLICIES = ("baseline", "silent_hike", "honest_wait", "complex", "cx_core")
SETTINGS = ("population.size=2000", "horizon_days=365", "seed=1")
REGENERATE_ENV = "CXSIM_REGENERATE_BASELINES"
HOW = "python -m tests.core.test_baselines --regenerate"


def summary(policy: str) -> dict:
    """The run's ``model.summary()`` as the JSON file holds it (a JSON round trip)."""
    params = params_from_cfg(compose([f"policy={policy}", *SETTINGS]))
    return json.loads(json.dumps(LoyaltyModel(params).run().summary()))


def flat(d: dict, prefix: str = "") -> dict:
    """Nested keys joined with dots: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def same(a, b) -> bool:
    """Exactly equal, of the same JSON type; NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def moved(old: dict, new: dict) -> list[str]:
    """One line per key that moved, appeared or disappeared between two (nested) dicts."""
    old, new = flat(old), flat(new)
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in new:
            lines.append(f"{key}: {old[key]!r} -> (gone)")
        elif key not in old:
            lines.append(f"{key}: (new) -> {new[key]!r}")
        elif not same(old[key], new[key]):
            lines.append(f"{key}: {old[key]!r} -> {new[key]!r}")
    return lines


def pinned() -> dict:
    return json.loads(BASELINES.read_text()) if BASELINES.exists() else {}


def test_the_baselines_pin_these_runs():
    assert list(pinned()) == list(POLICIES), f"tests/core/baselines.json is stale: {HOW}"


@pytest.mark.usefixtures("one_numba_thread")  # main() uses the default threads: same numbers
@pytest.mark.parametrize("policy", POLICIES)
def test_summary_equals_its_baseline(policy):
    lines = moved(pinned().get(policy, {}), summary(policy))
    assert not lines, (f"{policy} ({' '.join(SETTINGS)}): model.summary() moved from "
                       f"tests/core/baselines.json:\n  " + "\n  ".join(lines)
                       + f"\nIf the change is meant: {HOW}")


def main(argv: list[str] | None = None) -> int:
    """Print what moved against the baselines; with --regenerate (or the environment
    variable CXSIM_REGENERATE_BASELINES=1) rewrite tests/core/baselines.json as well."""
    ap = argparse.ArgumentParser(prog="python -m tests.core.test_baselines",
                                 description=main.__doc__.splitlines()[0])
    ap.add_argument("--regenerate", action="store_true",
                    help="rewrite tests/core/baselines.json with the current results")
    args = ap.parse_args(argv)
    regenerate = args.regenerate or os.environ.get(REGENERATE_ENV) == "1"
    old, new = pinned(), {policy: summary(policy) for policy in POLICIES}
    lines = moved(old, new)
    print("\n".join(lines) if lines else "no change against tests/core/baselines.json")
    if regenerate and (lines or list(old) != list(new)):
        BASELINES.write_text(json.dumps(new, indent=1) + "\n")
        print(f"wrote {BASELINES} ({len(lines)} change(s))")
    return 0 if regenerate or not lines else 1


if __name__ == "__main__":
    sys.exit(main())
