"""Configs, policies and runs: the YAML files against the schema, one-line errors for bad
input, run directories (contents, Parquet schema, determinism, atomic writes) and the
``cxsim-run`` command line."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sim.runs import io as sim_io
from sim.runs.cli import check, model_outputs, run, sampled_customers
from sim.runs.config import CONFIG_DIR, GROUPS, RUN_KEYS, RunConfig, compose, params_from_cfg
from sim.core.metrics import DAILY_COLUMNS, EVENTS, REASONS
from sim.core.model import LoyaltyModel
from sim.core.params import ParamError, PolicyParams, SimParams

REPO = Path(__file__).resolve().parents[2]
POLICIES = sorted(p.stem for p in (CONFIG_DIR / "policy").glob("*.yaml"))
SMALL = ["population.size=400", "horizon_days=40"]


def raw_yaml(path: Path) -> dict:
    """A config file's own values, as a plain YAML reader sees them (no schema filling in)."""
    data = yaml.safe_load(path.read_text()) or {}
    data.pop("defaults", None)
    return data


def small_params(*overrides: str) -> SimParams:
    return params_from_cfg(compose([*SMALL, *overrides]))


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """One small silent-hike run written to a run directory, and the parameters used."""
    params = small_params("policy=silent_hike", "seed=5", "population.journey_sample=100")
    run_dir = run(params, tmp_path_factory.mktemp("run") / "r")
    return params, run_dir


# -- the YAML files ------------------------------------------------------------------------
@pytest.mark.parametrize("group", sorted(set(GROUPS) - {"policy"}))
def test_group_defaults_spell_out_every_dataclass_default(group):
    schema = GROUPS[group]
    assert raw_yaml(CONFIG_DIR / group / "default.yaml") == dataclasses.asdict(schema())


def test_baseline_policy_spells_out_the_policy_defaults():
    assert raw_yaml(CONFIG_DIR / "policy" / "baseline.yaml") == \
        dataclasses.asdict(PolicyParams())


def test_primary_config_matches_the_schema_and_composes_to_the_defaults():
    top = raw_yaml(CONFIG_DIR / "config.yaml")
    defaults = RunConfig()
    for key in ("horizon_days", "seed", *RUN_KEYS):
        assert top[key] == getattr(defaults, key), key
    assert params_from_cfg(compose()) == SimParams()


@pytest.mark.parametrize("name", POLICIES)
def test_policy_file_names_itself_and_says_what_it_represents(name):
    path = CONFIG_DIR / "policy" / f"{name}.yaml"
    assert raw_yaml(path)["name"] == name
    assert path.read_text().startswith(f"# {name}: ")
    policy = params_from_cfg(compose([f"policy={name}"])).policy
    changed = {k for k, v in dataclasses.asdict(policy).items()
               if v != getattr(PolicyParams(), k)} - {"name"}
    assert (name == "baseline") == (not changed), changed


# -- every policy runs ---------------------------------------------------------------------
@pytest.mark.parametrize("name", POLICIES)
def test_every_policy_composes_and_runs(name, tmp_path):
    cfg = compose([f"policy={name}", *SMALL], return_hydra_config=True)
    params = params_from_cfg(cfg)
    assert params.policy.name == name and params.population.size == 400
    run_dir = run(params, tmp_path / cfg.hydra.run.dir)
    assert Path(cfg.hydra.run.dir) == Path("results", "runs", name, sim_io.config_hash(params))
    assert sim_io.is_complete(run_dir)
    ts = sim_io.read_timeseries(run_dir)
    assert ts.num_rows == params.horizon_days
    assert set(ts.column("policy").to_pylist()) == {name}
    assert ts.column("active").to_numpy()[0] > 0


# -- bad input: one line, full key, value and what is allowed, exit status 2 ----------------
BAD = [
    (["population.size=0"], "population.size=0: must be in [1, 50000000]"),
    (["silos.billing.staff_per_10k=-1"], "silos.billing.staff_per_10k=-1: must be in [0, 10000]"),
    (["policy.price_change=-1.5"], "policy.price_change=-1.5: must be in [-1, 100]"),
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


def test_policy_name_must_be_safe_for_a_directory():
    with pytest.raises(ParamError, match=r"policy\.name='\.\./x'"):
        small_params("policy.name=../x")


# -- run directories ---------------------------------------------------------------------
def test_run_directory_holds_manifest_summary_and_tables(one_run):
    params, run_dir = one_run
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        [sim_io.MANIFEST, *sim_io.RUN_FILES])
    manifest = sim_io.read_manifest(run_dir)
    assert list(manifest)[-1] == "status" and manifest["status"] == "complete"
    assert manifest["seed"] == params.seed == 5
    assert manifest["config_hash"] == sim_io.config_hash(params)
    assert manifest["params"] == dataclasses.asdict(params)
    assert {"cxsim", "numpy", "numba", "mesa", "hydra-core", "pyarrow"} <= set(
        manifest["versions"])
    assert all(manifest["versions"][k] for k in ("cxsim", "numpy", "pyarrow"))
    git = manifest["git"]
    assert git is None or (len(git["revision"]) == 40 and isinstance(git["dirty"], bool))
    assert manifest["wall_seconds"] > 0
    summary = sim_io.read_summary(run_dir)
    assert summary["customers_start"] == params.population.size
    assert summary["policy"] == "silent_hike"
    assert set(summary["churn_by_reason"]) == set(REASONS)


def test_git_revision_is_none_outside_a_checkout(tmp_path):
    assert sim_io.git_revision(tmp_path) is None
    here = sim_io.git_revision()
    assert here is None or len(here["revision"]) == 40


def test_timeseries_schema(one_run):
    params, run_dir = one_run
    table = sim_io.read_timeseries(run_dir)
    assert table.column_names == [*DAILY_COLUMNS, "policy", "seed"]
    assert table.schema.field("policy").type == pa.string()
    assert table.schema.field("seed").type == pa.int64()
    for col in DAILY_COLUMNS:
        t = table.schema.field(col).type
        assert t in (pa.int64(), pa.float64()), (col, t)
    for col in ("day", "active", "churned", "calls"):
        assert table.schema.field(col).type == pa.int64()
    for col in ("revenue", "profit", "abandonment_rate", "hold_minutes_mean"):
        assert table.schema.field(col).type == pa.float64()
    assert table.column("day").to_pylist() == list(range(params.horizon_days))
    assert set(table.column("seed").to_pylist()) == {params.seed}
    assert table.schema.metadata[b"cxsim.config_hash"].decode() == sim_io.config_hash(params)


def test_timeseries_and_journeys_hold_the_models_output(one_run):
    params, run_dir = one_run
    model = LoyaltyModel(params).run()
    table = sim_io.read_timeseries(run_dir)
    for col, values in model.timeseries().items():
        np.testing.assert_array_equal(table.column(col).to_numpy(), values, err_msg=col)
    journeys = sim_io.read_journeys(run_dir)
    expected = model.journeys()
    assert journeys.num_rows == len(expected["day"]) > 0
    for col in ("customer", "day", "value"):
        np.testing.assert_array_equal(journeys.column(col).to_numpy(), expected[col])
    assert journeys.column("event").to_pylist() == list(expected["event"])


def test_journeys_schema(one_run):
    params, run_dir = one_run
    table = sim_io.read_journeys(run_dir)
    assert table.schema.remove_metadata() == pa.schema(
        [*sim_io.JOURNEY_SCHEMA, ("policy", pa.string()), ("seed", pa.int64())])
    assert set(table.column("event").to_pylist()) <= set(EVENTS)
    days = table.column("day").to_numpy()
    assert days.min() >= 0 and days.max() < params.horizon_days
    assert table.column("customer").to_numpy().max() < params.population.journey_sample


def test_sampled_customers_and_holds_schema(one_run):
    params, run_dir = one_run
    sampled = sim_io.read_sampled(run_dir)
    assert sampled.schema.remove_metadata() == pa.schema(
        [*sim_io.SAMPLED_SCHEMA, ("policy", pa.string()), ("seed", pa.int64())])
    assert sampled.column("customer").to_pylist() == list(range(100))
    assert set(sampled.column("products").to_pylist()) <= {1, 2, 3, 4}
    holds = sim_io.read_holds(run_dir)
    assert holds.schema.remove_metadata() == pa.schema(
        [*sim_io.HOLDS_SCHEMA, ("policy", pa.string()), ("seed", pa.int64())])
    calls = holds.column("calls").to_numpy()
    assert (calls > 0).all() and np.all(np.diff(holds.column("minutes").to_numpy()) > 0)
    summary = sim_io.read_summary(run_dir)  # the histogram is the summary's hold statistics
    minutes = holds.column("minutes").to_numpy()
    assert minutes.max() <= summary["hold_minutes_max"] + 1
    assert summary["hold_minutes_p90"] == minutes[np.searchsorted(np.cumsum(calls),
                                                                  0.9 * calls.sum())]


def test_same_config_and_seed_give_identical_files(one_run, tmp_path):
    params, run_dir = one_run
    again = run(params, tmp_path / "again")
    for name in (sim_io.TIMESERIES, sim_io.JOURNEYS):
        assert pq.read_table(again / name).equals(pq.read_table(run_dir / name)), name
    assert sim_io.read_summary(again) == sim_io.read_summary(run_dir)
    other = run(dataclasses.replace(params, seed=6), tmp_path / "other")
    assert not pq.read_table(other / sim_io.TIMESERIES).drop(["seed"]).equals(
        pq.read_table(run_dir / sim_io.TIMESERIES).drop(["seed"]))


def test_run_identity_includes_the_model_code(tmp_path):
    """Runs made by different code never share a directory: the config hash covers the
    fingerprint of the sim package's source, which changes with any file's content."""
    params = small_params()
    assert sim_io.config_hash(params) == sim_io.config_hash(params, sim_io.MODEL_CODE)
    assert sim_io.config_hash(params, "a" * 12) != sim_io.config_hash(params, "b" * 12)
    (tmp_path / "model.py").write_text("x = 1\n")
    before = sim_io.code_fingerprint(tmp_path)
    (tmp_path / "model.py").write_text("x = 2\n")
    assert sim_io.code_fingerprint(tmp_path) != before


def test_config_hash_names_the_configuration_not_the_run_settings():
    base = small_params()
    assert sim_io.config_hash(base) == sim_io.config_hash(small_params())
    assert sim_io.config_hash(base) != sim_io.config_hash(small_params("seed=1"))
    assert sim_io.config_hash(base) != sim_io.config_hash(small_params("policy.callback=true"))
    as_int = dataclasses.replace(base, market=dataclasses.replace(
        base.market, premium_per_product=1000))
    assert sim_io.config_hash(as_int) == sim_io.config_hash(base)
    plain = compose(SMALL, return_hydra_config=True).hydra.run.dir
    moved = compose([*SMALL, "progress=false", "force=true"], return_hydra_config=True)
    assert moved.hydra.run.dir == plain


def test_progress_bar_only_when_asked(tmp_path, capsys):
    params = small_params("horizon_days=20")
    run(params, tmp_path / "quiet")
    assert capsys.readouterr().err == ""
    run(params, tmp_path / "bar", progress=True)
    err = capsys.readouterr().err
    assert "baseline seed 0" in err and "/20 [" in err


# -- atomic writes and completeness ------------------------------------------------------
def test_incomplete_directories_are_never_complete(one_run, tmp_path):
    params, done = one_run
    run_dir = tmp_path / "r"
    assert not sim_io.is_complete(run_dir)            # missing
    run_dir.mkdir()
    assert not sim_io.is_complete(run_dir)            # empty
    for name in sim_io.RUN_FILES:
        (run_dir / name).write_bytes((done / name).read_bytes())
    assert not sim_io.is_complete(run_dir)            # results but no manifest
    manifest = sim_io.read_manifest(done)
    (run_dir / sim_io.MANIFEST).write_text(json.dumps({**manifest, "status": "running"}))
    assert not sim_io.is_complete(run_dir)            # manifest not complete
    (run_dir / sim_io.MANIFEST).write_text(json.dumps(manifest)[:-10])
    assert not sim_io.is_complete(run_dir)            # manifest cut short
    (run_dir / sim_io.MANIFEST).write_text(json.dumps(manifest))
    assert sim_io.is_complete(run_dir)
    (run_dir / sim_io.JOURNEYS).unlink()
    assert not sim_io.is_complete(run_dir)            # a result file missing
    assert sim_io.complete_runs(tmp_path) == []
    assert sim_io.complete_runs(done.parent) == [done]


def test_failed_rewrite_leaves_no_complete_run_and_no_temp_files(one_run, tmp_path,
                                                                  monkeypatch):
    params, done = one_run
    model = LoyaltyModel(params)
    sampled = sampled_customers(model)
    outputs = model_outputs(model.run(), sampled)
    run_dir = sim_io.write_run(tmp_path / "r", params, **outputs, wall_seconds=1.0)
    assert sim_io.is_complete(run_dir)
    before = (run_dir / sim_io.TIMESERIES).read_bytes()

    def broken(table, where):
        Path(where).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sim_io.pq, "write_table", broken)
    with pytest.raises(OSError):
        sim_io.write_run(run_dir, params, **outputs, wall_seconds=1.0)
    assert not sim_io.is_complete(run_dir)
    assert (run_dir / sim_io.TIMESERIES).read_bytes() == before  # never half-replaced
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_write_run_refuses_outputs_that_break_the_contract(one_run, tmp_path):
    params, _ = one_run
    model = LoyaltyModel(params)
    sampled = sampled_customers(model)
    outputs = model_outputs(model.run(), sampled)
    run_dir = sim_io.write_run(tmp_path / "r", params, **outputs, wall_seconds=1.0)
    short = {k: v for k, v in outputs["timeseries"].items() if k != "nps"}
    with pytest.raises(ValueError, match="DAILY_COLUMNS"):
        sim_io.write_run(run_dir, params, **{**outputs, "timeseries": short}, wall_seconds=1.0)
    journeys = {**outputs["journeys"], "extra": outputs["journeys"]["day"]}
    with pytest.raises(ValueError, match="journey columns"):
        sim_io.write_run(run_dir, params, **{**outputs, "journeys": journeys}, wall_seconds=1.0)
    with pytest.raises(ValueError, match="hold histogram"):
        sim_io.write_run(run_dir, params, **{**outputs, "hold_histogram": -np.ones(3)},
                         wall_seconds=1.0)
    assert sim_io.is_complete(run_dir)  # the finished run before is left alone


# -- the command line (subprocesses) ------------------------------------------------------
def cxsim_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "sim.runs.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


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
    assert first.stdout == ""
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
