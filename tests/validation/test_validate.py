"""cxsim-validate: the registry runs, reports, draws, and fails when a check fails."""

import csv
import math

import pytest

from sim.validation import cli as V


def test_quick_validation_passes_and_writes_report_and_figure(tmp_path, capsys):
    code = V.main(["--quick", "--out", tmp_path])
    assert code == 0
    report = (tmp_path / "report.md").read_text()
    for png_pdf in ("erlang_a_vs_load.png", "erlang_a_vs_load.pdf"):
        assert (tmp_path / png_pdf).stat().st_size > 1000
    with open(tmp_path / "checks.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # every registered check contributed rows, and each is in the report with its verdict
    assert {r["check"] for r in rows} == set(V.REGISTRY)
    # every row passes, except known open targets, which still report their numbers
    for r in rows:
        assert r["status"] == "pass" or r["known_open"] == "True", (r["check"], r["quantity"])
        assert math.isfinite(float(r["simulated"]))
    opened = [r for r in rows if r["status"] != "pass"]
    assert report.count("| pass |") == len(rows) - len(opened)
    assert report.count("(known open target) |") == len(opened)
    if opened:
        assert "## Known open targets" in report
    assert "Garnett, Mandelbaum & Reiman" in report and "Gupta, Lehmann & Stuart" in report
    assert "Kahneman, Knetsch & Thaler" in report and "Nitzan & Libai" in report
    assert "erlang_c" in capsys.readouterr().out
    # the calibration targets that hold at the defaults
    status = {(r["check"], r["quantity"]): r["status"] for r in rows
              if r["known_open"] != "True"}
    for check in ("retention", "fairness", "service_outcomes", "contagion", "price_walking",
                  "silent_hike_alternatives", "warm_start", "callbacks", "convergence"):
        assert sum(c == check for c, _ in status) >= 1, check
        assert all(v == "pass" for (c, _), v in status.items() if c == check), check
    # the convergence check: every paired answer and hold agrees at 4x the sample of the
    # same company, each row blocking (none is a known open target)
    assert {r["quantity"] for r in rows if r["check"] == "convergence"
            and r["known_open"] != "True"} == {
        "baseline: lost /10k", "baseline: NPV /10k", "baseline: mean hold, min",
        *(f"{s}: {q}" for s in ("understaffed", "honest_wait", "incident")
          for q in ("extra lost /10k", "NPV chg /10k", "mean hold, min"))}
    # the silent hike's rows are known open targets (README, "Known limitations")
    assert {r["quantity"] for r in rows if r["check"] == "silent_hike"
            and r["known_open"] == "True"} == {"year-1 revenue, % chg", "3-yr NPV profit, % chg"}


def _row(simulated, se=None):
    return V.CheckResult("t", "claim", "source", "q", 1.0, simulated, se, 0.05)


def test_pass_rule():
    assert _row(1.04).status == "pass"
    assert _row(0.94).status == "fail"
    assert _row(1.01, se=0.02).status == "underpowered"  # 3 SE > tolerance: cannot fail
    assert _row(1.01, se=0.01).passed
    assert _row(float("nan")).status == "fail"


def test_agreement_rule():
    """Two estimates of one answer agree within the 95% interval of their difference or
    within the tolerance; an interval wider than the answer itself cannot tell."""
    def row(sim, se):
        return V.CheckResult("t", "c", "s", "q", 100.0, sim, se, 0.10, rule="agree")
    assert row(109.0, 0.1).passed            # within 10%
    assert row(125.0, 15.0).passed           # within 1.96 SE
    assert row(125.0, 5.0).status == "fail"  # neither
    assert row(80.0, 5.0).status == "fail"
    assert row(100.0, 60.0).status == "underpowered"
    assert row(109.0, None).passed and row(111.0, None).status == "fail"


def test_direction_rule():
    def row(sim, se, rule):
        return V.CheckResult("t", "c", "s", "q", 0.0, sim, se, 0.0, rule=rule)
    assert row(0.5, 0.1, "above").passed and row(-0.5, 0.1, "below").passed
    assert row(0.5, 0.1, "below").status == "fail"
    assert row(-0.5, 0.1, "above").status == "fail"
    assert row(0.2, 0.1, "above").status == "underpowered"  # within 3 SE of the line
    assert math.isnan(row(0.5, 0.1, "above").rel_error)


def test_known_open_target_fails_but_does_not_block(tmp_path, monkeypatch):
    registry = {"open": lambda settings: [V.CheckResult(
        "open", "claim", "source", "q", 1.0, 2.0, None, 0.05, open_target="a mechanism is "
        "missing")]}
    monkeypatch.setattr(V, "REGISTRY", registry)
    monkeypatch.setattr(V, "erlang_a_sweep", lambda settings: [])
    monkeypatch.setattr(V, "_write_csv", lambda rows, path: None)
    monkeypatch.setattr(V, "plot_erlang_a", lambda table, out: [])
    assert V.main(["--out", tmp_path, "--quick"]) == 0
    assert V.main(["--out", tmp_path, "--quick", "--strict"]) == 1
    report = (tmp_path / "report.md").read_text()
    assert "| fail (known open target) |" in report
    assert "a mechanism is missing" in report.split("## Known open targets")[1]


def test_a_failing_check_makes_main_exit_nonzero(tmp_path, monkeypatch):
    registry = dict(V.REGISTRY)
    registry["broken"] = lambda settings: [_row(2.0)]
    monkeypatch.setattr(V, "REGISTRY", registry)
    monkeypatch.setattr(V, "erlang_a_sweep", lambda settings: [])  # skip the figure's runs
    monkeypatch.setattr(V, "_write_csv", lambda rows, path: None)
    monkeypatch.setattr(V, "plot_erlang_a", lambda table, out: [])
    assert V.main(["--out", tmp_path, "--only", "broken", "clv", "--quick"]) == 1
    assert "| fail |" in (tmp_path / "report.md").read_text()


def test_registering_a_name_twice_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        V.register("clv")(lambda settings: [])
