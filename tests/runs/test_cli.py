"""``cxsim-run``'s command line: one-line errors for bad input (full key, value and what is
allowed, exit status 2), sweeps checked job by job, the progress bar, and the script
itself in a subprocess."""

from __future__ import annotations

import io

import pytest
import yaml

from sim.runs import cli
from sim.runs import config as sim_config
from sim.runs import io as sim_io
from sim.runs.cli import check, describe, gist, headline, run
from sim.runs.config import compose_jobs
from sim.core.params import ParamError
from tests.helpers import POLICIES, TINY, cxsim_run, small_params


# -- bad input: one line, full key, value and what is allowed, exit status 2 ---------------
BAD = [
    (["population.size=0"], "population.size=0: must be in [1, 50000000]"),
    (["silos.billing.staff_per_10k=-1"], "silos.billing.staff_per_10k=-1: must be in [0, 10000]"),
    (["policy.price_change=-1.5"], "policy.price_change=-1.5: must be in (-1, 100]"),
    (["behaviour.captive_share=1.5"], "behaviour.captive_share=1.5: must be in [0, 1]"),
    (["policy.outreach_relevance=-0.2"], "policy.outreach_relevance=-0.2: must be in [0, 1]"),
    (["horizon_days=0"], "horizon_days=0: must be in [1, 36500]"),
    (["population.size=abc"], "population.size=abc: must be an integer in [1, 50000000]"),
    (["policy.callback=maybe"], "policy.callback=maybe: must be true or false"),
    (["policy.explanation=maybe"],
     "policy.explanation='maybe': must be one of none, cost, lock_in"),
    (["policy.rep_help=0.8", "policy.rep_handoff=0.5"],
     "policy.rep_help + policy.rep_handoff = 1.3: must be <= 1"),
]


@pytest.mark.parametrize("overrides,line", BAD)
def test_bad_value_stops_with_one_line(overrides, line, capsys):
    with pytest.raises(SystemExit) as stop:
        check(overrides)
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"cxsim-run: {line}\n"


@pytest.mark.parametrize("overrides,starts,mentions", [
    (["policy=nonexistent"], "policy=nonexistent: no such policy config; allowed: ",
     POLICIES),
    (["population.siz=3"], "population.siz=3: unknown key; did you mean population.size? ",
     ["tenure_mean_years", "product_mix"]),
    (["+policy.rebate=0.1"], "policy.rebate=0.1: unknown key; ", ["price_cap", "rep_help"]),
    (["colour=blue"], "colour=blue: unknown key; ", ["horizon_days", "seed", "policy"]),
    (["policy=["], "policy=[: cannot parse this override", ["key=value"]),
])
def test_unknown_key_missing_policy_or_bad_syntax_say_what_is_allowed(
        overrides, starts, mentions, capsys):
    with pytest.raises(SystemExit) as stop:
        check(overrides)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cxsim-run: {starts}") and err.count("\n") == 1
    assert all(word in err for word in mentions)


def test_sweeps_are_checked_job_by_job(tmp_path, capsys):
    with pytest.raises(SystemExit):
        check(["-m", "policy=baseline,silent_hike", "horizon_days=30,0"])
    assert capsys.readouterr().err == "cxsim-run: horizon_days=0: must be in [1, 36500]\n"
    check(["-m", "policy=glob(*hike*)", "seed=0,1", f"results_dir={tmp_path}"])
    assert capsys.readouterr().err == ""
    assert (tmp_path / "runs").is_dir()


def test_mistakes_inside_a_config_file_name_the_file(tmp_path, capsys):
    extra = tmp_path / "extra"
    (extra / "policy").mkdir(parents=True)
    header = "defaults:\n  - /schema/policy@_here_\n  - _self_\n"
    (extra / "policy" / "typo.yaml").write_text(header + "name: typo\nrep_hlp: 0.3\n")
    (extra / "policy" / "words.yaml").write_text(header + "name: words\nrep_help: lots\n")
    for name, line in [
            ("typo", "policy/typo.yaml: policy.rep_hlp: unknown key; did you mean "
                     "policy.rep_help?"),
            ("words", "policy/words.yaml: policy.rep_help=lots: must be a number in [0, 1]")]:
        with pytest.raises(SystemExit):
            check(["-cd", str(extra), f"policy={name}", f"results_dir={tmp_path}"])
        assert capsys.readouterr().err.startswith(f"cxsim-run: {line}")
    (extra / "policy" / "words.yaml").write_text(header + "name: words\nrep_help: 0.2\n")
    check(["-cd", str(extra), "policy=words", f"results_dir={tmp_path}"])
    assert capsys.readouterr().err == ""


def test_unwritable_results_dir_is_refused(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(SystemExit) as stop:
        check([f"results_dir={blocker}/results"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cxsim-run: results_dir={blocker}/results: cannot write ")
    assert err.count("\n") == 1


def test_full_error_raises_instead(monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(ParamError, match=r"population\.size=0"):
        check(["population.size=0"])


def test_progress_bar_only_when_asked(tmp_path, capsys):
    params = small_params("horizon_days=20")
    run(params, tmp_path / "quiet")
    assert capsys.readouterr().err == ""
    run(params, tmp_path / "bar", progress=True)
    err = capsys.readouterr().err
    assert "baseline seed 0" in err and "/20 [" in err


# -- the command line (subprocesses) -------------------------------------------------------
def test_cli_writes_a_run_directory_then_skips_it_when_complete(tmp_path):
    args = ["policy=explained_hike", "population.size=300", "horizon_days=30", "seed=3"]
    first = cxsim_run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    params = small_params(*args)
    run_dir = tmp_path / "results" / "runs" / "explained_hike" / sim_io.config_hash(params)
    assert sim_io.is_complete(run_dir)
    assert {"config.yaml", "hydra.yaml", "overrides.yaml"} <= {
        p.name for p in (run_dir / ".hydra").iterdir()}
    assert yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())["seed"] == 3
    assert first.stderr.strip() == f"cxsim-run: wrote {run_dir}"  # no progress bar off a TTY
    assert first.stdout == headline(sim_io.read_summary(run_dir)) + "\n"
    assert sim_io.read_summary(run_dir)["policy_edited"] is False  # as its file says
    stamp = (run_dir / sim_io.MANIFEST).stat().st_mtime_ns
    second = cxsim_run(*args, cwd=tmp_path)
    assert second.returncode == 0 and "skipped" in second.stderr
    assert (run_dir / sim_io.MANIFEST).stat().st_mtime_ns == stamp


@pytest.mark.parametrize("bad,line", [
    ("population.size=0", "cxsim-run: population.size=0: must be in [1, 50000000]"),
    ("policy=nonexistent", "cxsim-run: policy=nonexistent: no such policy config; allowed: "
     + ", ".join(POLICIES)),
])
def test_cli_bad_input_exits_before_any_run(bad, line, tmp_path):
    result = cxsim_run(bad, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == line + "\n"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "results").exists()


# -- what there is to run: --policies, --experiments ---------------------------------------
def test_policies_and_experiments_are_listed_with_what_each_is(tmp_path):
    listed = describe("policy")
    lines = listed.splitlines()
    starts = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert starts == POLICIES
    silent = next(line for line in lines if line.startswith("silent_hike "))
    assert "60%" in silent and "silent_hike:" not in silent  # the header, without its name
    assert all(len(line) <= 100 for line in lines)
    experiments = describe("experiment")
    assert "premium_hike " in experiments and "?" in experiments
    result = cxsim_run("--policies", "--experiments", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == listed + "\n\n" + experiments + "\n"
    assert not any(tmp_path.iterdir())


def test_gist_is_the_first_sentence_or_two():
    assert gist("the silent hike (seed 001). A customer moves. More.") == \
        "the silent hike (seed 001). A customer moves."
    assert gist("a long first sentence that says what the policy is, in enough words. More.") \
        == "a long first sentence that says what the policy is, in enough words."
    assert gist("self- service fully resolves few issues (Dixon et al. 2010).") == \
        "self-service fully resolves few issues (Dixon et al. 2010)."


# -- a single run prints its headline numbers ------------------------------------------------
def test_headline_names_the_numbers_of_the_summary():
    summary = {"policy": "silent_hike", "seed": 3, "days": 60, "customers_start": 1234,
               "churned": 56, "churn_share": 0.0431, "revenue": 1234567.8, "profit": -9876.4,
               "npv_profit": -9000.0, "customer_equity": 250000.0, "hold_minutes_max": 481.6}
    text = headline(summary)
    assert text.splitlines()[0] == "silent_hike, seed 3: 1,234 customers over 60 days"
    for label, value in [("customers lost", "56 (4.3%"), ("revenue", "1,234,568"),
                         ("profit", "-9,876"), ("NPV of profit", "-9,000"),
                         ("customer equity", "250,000"), ("longest hold", "482 minutes")]:
        assert any(line.split(label)[-1].strip().startswith(value)
                   for line in text.splitlines() if line.strip().startswith(label)), label
    edited = headline({**summary, "policy_edits": ["price_change", "explanation"]})
    assert edited.startswith("silent_hike (edited: price_change, explanation), seed 3")


# -- a sweep's progress ------------------------------------------------------------------------
def test_sweep_progress_counts_finished_run_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "is_complete", lambda d: (d / sim_io.MANIFEST).is_file())
    dirs = [tmp_path / f"r{i}" for i in range(20)]
    for d in dirs:
        d.mkdir()
    (dirs[0] / sim_io.MANIFEST).write_text("{}")  # complete before the sweep: skipped
    out = io.StringIO()
    watch = cli.SweepProgress([*dirs, dirs[1]], every_run=False, poll_s=0.01, stream=out)
    assert (watch.total, watch.done) == (20, 1)
    with watch:
        for d in dirs[1:]:
            (d / sim_io.MANIFEST).write_text("{}")
            watch._show()
    lines = out.getvalue().splitlines()
    assert lines[0] == "cxsim-run: a sweep of 20 runs (1 already complete)"
    counts = [int(line.split()[1]) for line in lines[1:]]
    assert counts == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]  # a line at every tenth
    assert all(", ETA " in line for line in lines[1:-1])
    assert lines[-1].startswith("cxsim-run: 20 of 20 runs, done in ")


def test_a_joblib_sweep_shows_its_progress_in_the_main_process(tmp_path):
    result = cxsim_run("-m", "policy=baseline", "seed=0,1", *TINY, "burn_in_years=0",
                       "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "study=progress",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "cxsim-run: a sweep of 2 runs"
    progress = [line for line in lines if " of 2 runs" in line]
    assert progress[-1].startswith("cxsim-run: 2 of 2 runs, done in ")
    assert "\r" not in result.stderr  # no bars off a terminal
    assert "customers lost" not in result.stdout  # a sweep's numbers are in runs.parquet


def test_a_failed_sweep_ends_with_its_error_and_a_single_run_shows_no_sweep_progress(
        tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "is_complete", lambda d: (d / sim_io.MANIFEST).is_file())
    out = io.StringIO()
    with pytest.raises(SystemExit):
        with cli.SweepProgress([tmp_path / "a", tmp_path / "b"], stream=out, poll_s=60):
            (tmp_path / "a").mkdir()
            (tmp_path / "a" / sim_io.MANIFEST).write_text("{}")
            raise SystemExit(1)  # as the collection of a damaged study does
    assert out.getvalue().splitlines() == ["cxsim-run: a sweep of 2 runs"]
    monkeypatch.setattr(cli, "hydra_app", lambda: None)
    monkeypatch.setattr(cli, "SweepProgress", None)  # a sweep of one run: none made
    cli.launch(compose_jobs(["seed=0"], multirun=True))


def test_an_install_without_its_configs_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sim_config, "CONFIG_DIR", tmp_path / "_configs")
    with pytest.raises(SystemExit) as stop:
        check([])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"cxsim-run: no configs in {tmp_path}/_configs (a plain install carries them, "
        "setup.py); install cxsim again with pip, or run it from its repository\n")
