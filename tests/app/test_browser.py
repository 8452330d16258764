"""The what-if page in a real browser: the system's headless Chromium (apt: chromium), driven
by Playwright, against ``cxsim-app`` started here on 127.0.0.1 and always stopped.

Every request to anything but the app's own address is refused, so the page must render
offline. The test changes two levers, runs, and checks the numbers shown against direct
model runs with the same values composed as cxsim-run composes them; then a bad lever's
line against cxsim-run's, and save as policy. Screenshot: results/app/screenshot.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sim.core.model import LoyaltyModel
from sim.report.stats import paired_ci
from sim.runs import cli
from sim.runs.config import compose, compose_jobs, params_from_cfg
from tests.helpers import REPO

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CXSIM_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = REPO / "results" / "app" / "screenshot.png"
# the two levers moved and the run's settings, as typed on the page
LEVERS = {"price change at renewal (0.6 = +60%)": ("policy.price_change", "0.3"),
          "staffing factor (x every silo's staff)": ("policy.staffing_factor", "0.5")}
RUN = {"customers": ("population.size", "1000"), "horizon (days)": ("horizon_days", "365"),
       "warm start (years before day 0)": ("burn_in_years", "0"),
       "first seed": ("seed", "3")}
SEEDS = 2
POLICY = "silent_hike"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def expected():
    """The direct model runs (before the server starts: numba's cache is then warm for it)."""
    values = {k: v for k, v in [*LEVERS.values(), *RUN.values()]}
    first = int(values.pop("seed"))
    common = [f"{k}={v}" for k, v in values.items() if not k.startswith("policy.")]
    levers = [f"{k}={v}" for k, v in values.items() if k.startswith("policy.")]
    out = {"what-if": [], "baseline": []}
    for seed in range(first, first + SEEDS):
        for side, over in (("what-if", [f"policy={POLICY}", *levers]), ("baseline", [])):
            params = params_from_cfg(compose([*over, *common, f"seed={seed}"]))
            out[side].append(LoyaltyModel(params).run().summary())
    return out


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """``cxsim-app`` on a free port of 127.0.0.1 with an extra config directory; stopped
    whatever happens."""
    config_dir = tmp_path_factory.mktemp("configs")
    port = free_port()
    exe = Path(sys.executable).with_name("cxsim-app")
    log = open(config_dir / "server.log", "w")
    proc = subprocess.Popen([str(exe), "--port", str(port), "--config-dir", str(config_dir)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("cxsim-app did not start: "
                                       + (config_dir / "server.log").read_text()[-2000:])
                time.sleep(0.3)
        yield url, config_dir
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        pytest.fail(f"no Chromium at {CHROMIUM}: the browser test needs the system's "
                    "(apt-get install -y chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 2300})
        try:
            yield context
        finally:
            context.close()


def number(page, key: str, attr: str) -> float:
    return float(page.locator(f'tr.cxsim-number[data-key="{key}"]').get_attribute(attr))


def test_page_runs_what_the_model_runs(app, browser, expected, capsys):
    url, config_dir = app
    page = browser.new_page()
    refused = []

    def only_the_app(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()
    page.route("**/*", only_the_app)
    page.goto(url)
    page.locator(".cxsim-run").wait_for(timeout=60_000)  # rendered, with only the app reached
    for label, (_, value) in {**LEVERS, **RUN}.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("seeds (runs per side)", exact=True).fill(str(SEEDS))
    page.locator(".cxsim-run").click()
    page.locator(".cxsim-figure-journey img").wait_for(timeout=300_000)  # a busy machine
    figures = page.locator(".cxsim-figure")
    assert figures.count() == 5
    for k in range(5):
        assert figures.nth(k).locator(".cxsim-finding").inner_text().strip()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # the numbers shown are those of the direct runs, paired by seed
    for key in ("customers_end", "churned", "profit_year1", "customer_equity", "npv_profit",
                "hold_minutes_mean"):
        a = [s[key] for s in expected["what-if"]]
        b = [s[key] for s in expected["baseline"]]
        gap, low, high = paired_ci(a, b)
        assert number(page, key, "data-gap") == pytest.approx(gap, rel=1e-9, abs=1e-6), key
        assert number(page, key, "data-ci-low") == pytest.approx(low, rel=1e-9, abs=1e-6)
        assert number(page, key, "data-ci-high") == pytest.approx(high, rel=1e-9, abs=1e-6)
        assert number(page, key, "data-what-if") == pytest.approx(np.mean(a), rel=1e-9)
        assert number(page, key, "data-baseline") == pytest.approx(np.mean(b), rel=1e-9)
    gap = paired_ci([s["customers_end"] for s in expected["what-if"]],
                    [s["customers_end"] for s in expected["baseline"]])[0]
    shown = page.locator('tr.cxsim-number[data-key="customers_end"] td').nth(3).inner_text()
    assert shown == f"{gap:,.0f}"  # the table's gap column, as shown

    # a bad lever: cxsim-run's line, on the page
    page.get_by_label("price change at renewal (0.6 = +60%)", exact=True).fill("-2")
    page.locator(".cxsim-run").click()
    error = page.locator(".cxsim-error")
    error.wait_for(timeout=30_000)
    with pytest.raises(SystemExit):
        cli.check([f"policy={POLICY}", "policy.price_change=-2"])
    line = capsys.readouterr().err.strip().removeprefix(f"{cli.PROG}: ")
    assert line == "policy.price_change=-2: must be in (-1, 100]"
    assert error.inner_text().strip() == line

    # save as policy: a policy file cxsim-run composes to the what-if's policy
    page.get_by_label("price change at renewal (0.6 = +60%)", exact=True).fill("0.3")
    page.get_by_label("policy name", exact=True).fill("browser_what_if")
    page.locator(".cxsim-save").click()
    page.locator(".cxsim-saved").wait_for(timeout=30_000)
    saved = params_from_cfg(compose_jobs(["policy=browser_what_if"],
                                         config_dir=str(config_dir))[0]).policy
    direct = params_from_cfg(compose([f"policy={POLICY}", *(f"{k}={v}" for k, v in
                                                            LEVERS.values())])).policy
    assert {**vars(saved), "name": POLICY} == vars(direct)
    page.close()
