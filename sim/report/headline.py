"""``cxsim-headline`` (what ``make run`` calls): the headline study, then its report.

    cxsim-headline                                   # the default size: a few minutes
    cxsim-headline population.size=20000 'seed=range(10)'   # any cxsim-run override

The same as ``cxsim-run -m experiment=headline [overrides]`` (configs/experiment/headline.yaml: the
seed stories' policies against the baseline, paired by seed) followed by
``cxsim-report results/headline``: the sweep resumes like any other, and the runs are
collected at its end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.report import report
from sim.runs import cli

EXPERIMENT = "headline"


def main(argv: list[str] | None = None) -> int:
    """Run the headline experiment with the given overrides, then report it."""
    args = ["--multirun", f"experiment={EXPERIMENT}",
            *(sys.argv[1:] if argv is None else argv)]
    cfgs = cli.check(args)  # exits with one line on a mistake, before any run
    study = Path(str(cfgs[0].hydra.sweep.dir))
    saved, sys.argv = sys.argv, ["cxsim-headline", *args]
    try:
        cli.launch()  # Hydra's multirun of the jobs check() has validated
    finally:
        sys.argv = saved
    path = report.report(study)
    print(f"cxsim-headline: wrote {path} and its figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
