"""``cxsim-app``: the what-if page (``sim.app.page``) served by Solara on 127.0.0.1.

    cxsim-app                      # http://127.0.0.1:8765
    cxsim-app --port 9000 --config-dir my_configs

``--config-dir``: an extra config directory (as ``cxsim-run -cd``): its ``policy/*.yaml``
are offered too, and "save as policy" writes to its ``policy/`` (else to
``configs/policy/``). The page's assets are served from the ``solara-assets`` package, so
it renders without internet.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PROG = "cxsim-app"
HOST = "127.0.0.1"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--config-dir", type=Path, default=None,
                        help="extra config directory; save as policy writes to its policy/")
    parser.add_argument("--threads", type=int, default=None,
                        help="numba threads of the runs (default 1; see sim.app.engine)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else list(argv))
    if args.config_dir is not None:
        if not args.config_dir.is_dir():
            print(f"{PROG}: --config-dir={args.config_dir}: no such directory", file=sys.stderr)
            return 2
        os.environ["CXSIM_APP_CONFIG_DIR"] = str(args.config_dir.resolve())
    if args.threads is not None:
        os.environ["CXSIM_APP_THREADS"] = str(args.threads)
    # offline: Solara serves the page's JavaScript and CSS itself (its assets proxy, whose
    # cache the solara-assets package fills at install), never from a CDN; no telemetry
    os.environ["SOLARA_ASSETS_PROXY"] = "True"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    from solara.__main__ import cli as solara_cli
    solara_cli(["run", "sim.app.page", "--host", HOST, "--port", str(args.port),
                 "--production", "--no-open", "--no-check-version"], prog_name=PROG, standalone_mode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
