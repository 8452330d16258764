"""The headline study: the seed stories' policies against the baseline, paired by seed.

``cxsim-headline`` runs every policy in ``POLICIES`` (read from ``configs/policy/*.yaml``) for
the same seeds (common random numbers, so differences are paired), writes ``runs.parquet``
(one row per run) and ``daily.parquet`` (one row per run and day) under
``results/headline/``, then the figures and ``report.md`` (``sim.plotting``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from sim.model import LoyaltyModel
from sim.params import ParamError, from_dict, validate

POLICIES = ("baseline", "silent_hike", "explained_hike", "understaffed", "honest_wait", "cx_core")
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def policy_params(name: str, config_dir: Path = CONFIG_DIR) -> dict:
    """The policy group file as a dict of PolicyParams fields."""
    path = config_dir / "policy" / f"{name}.yaml"
    if not path.exists():
        raise ParamError(f"policy={name}: no file {path}")
    data = yaml.safe_load(path.read_text()) or {}
    return {k: v for k, v in data.items() if k != "defaults"}


def write_parquet(table: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.table(table), tmp)
    tmp.replace(path)


def run_study(out: Path, size: int, years: int, seeds: int, policies=POLICIES) -> None:
    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list] = {}
    daily: dict[str, list] = {}
    total = len(policies) * seeds
    started = time.time()
    configs = {name: policy_params(name) for name in policies}
    for k, (name, seed) in enumerate((n, s) for n in policies for s in range(seeds)):
        params = from_dict({"policy": configs[name], "population": {"size": size},
                            "horizon_days": 365 * years, "seed": seed})
        validate(params)
        model = LoyaltyModel(params).run()
        summary = model.summary()
        flat = {k2: v for k2, v in summary.items() if not isinstance(v, dict)}
        flat.update({f"churned_{r}": v for r, v in summary["churn_by_reason"].items()})
        flat.update({f"retention_annual_{p}_products": v
                     for p, v in summary["retention_annual_by_products"].items()})
        for key, value in flat.items():
            runs.setdefault(key, []).append(value)
        ts = model.timeseries()
        for key, value in ts.items():
            daily.setdefault(key, []).append(value)
        daily.setdefault("policy", []).append(np.full(len(ts["day"]), name))
        daily.setdefault("seed", []).append(np.full(len(ts["day"]), seed))
        print(f"[{k + 1}/{total}] {name} seed {seed}: retention "
              f"{summary['retention_annual']:.3f}, profit {summary['profit']:,.0f} "
              f"({time.time() - started:.0f} s)", file=sys.stderr, flush=True)
    write_parquet(runs, out / "runs.parquet")
    write_parquet({k: np.concatenate(v) for k, v in daily.items()}, out / "daily.parquet")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/headline", type=Path)
    ap.add_argument("--size", default=10_000, type=int, help="customers at the start")
    ap.add_argument("--years", default=3, type=int)
    ap.add_argument("--seeds", default=5, type=int, help="replications (paired across policies)")
    args = ap.parse_args(argv)
    try:
        if args.size < 1 or args.years < 1 or args.seeds < 2:
            raise ParamError(f"--size={args.size} --years={args.years} --seeds={args.seeds}: "
                             "need size >= 1, years >= 1, seeds >= 2 (for intervals)")
        run_study(args.out, args.size, args.years, args.seeds)
    except ParamError as err:
        print(f"cxsim-headline: {err}", file=sys.stderr)
        return 2
    from sim import plotting
    plotting.headline_report(args.out)
    print(f"wrote {args.out}/report.md and figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

