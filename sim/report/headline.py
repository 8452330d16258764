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

from hydra._internal.utils import get_args_parser

from sim.report import report
from sim.runs import cli

EXPERIMENT = "headline"


def main(argv: list[str] | None = None) -> int:
    """Run the headline experiment with the given overrides, then report it. ``--help``
    prints this command's usage; Hydra's flags that only print (``--cfg job``, ``--info``,
    ``--hydra-help``) print what Hydra prints for the headline's config, and nothing runs."""
    given = sys.argv[1:] if argv is None else list(argv)
    if "-h" in given or "--help" in given:
        print(f"{__doc__.strip()}\n\nOverrides and Hydra's flags: see cxsim-run --help.")
        return 0
    flags = get_args_parser().parse_args(given)
    runs = not (cli.prints_only(flags) or flags.cfg)
    # (Hydra takes --multirun with none of its flags that only print)
    # (the experiment last: argparse takes no flag after a positional override)
    args = [*(["--multirun"] if runs else []), *given, f"experiment={EXPERIMENT}"]
    cfgs = cli.check(args)  # exits with one line on a mistake, before any run
    saved, sys.argv = sys.argv, ["cxsim-headline", *args]
    try:
        # Hydra's multirun of the jobs check() has validated (with the sweep's progress), or
        # its printout
        cli.launch(cfgs if runs else None)
    finally:
        sys.argv = saved
    if not runs:
        return 0
    try:
        path = report.report(Path(str(cfgs[0].hydra.sweep.dir)))
    except report.StudyMixed as err:
        print(f"cxsim-headline: {err}", file=sys.stderr)
        return 2
    print(f"cxsim-headline: wrote {path} and its figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
