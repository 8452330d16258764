"""Run directories (``sim.runs.io``): contents, Parquet schemas, determinism, the run's
identity (config hash and model code), atomic writes, completeness and the verification of
a finished run's files against its manifest."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.runs import io as sim_io
from sim.runs.cli import model_outputs, run, sampled_customers
from sim.runs.config import compose
from sim.core.metrics import DAILY_COLUMNS, EVENTS, REASONS
from sim.core.model import LoyaltyModel
from tests.helpers import SMALL, small_params


# -- run directories -----------------------------------------------------------------------
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
    # the active customers on day 0, after the warm start (some left, some joined)
    assert summary["customers_start"] == LoyaltyModel(params).customers_start
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
    # the sampled customers: the first journey_sample customers of the book on day 0
    sample = LoyaltyModel(params).journey_idx
    assert sample.size == params.population.journey_sample
    assert set(table.column("customer").to_numpy()) <= set(sample)


def test_sampled_customers_and_holds_schema(one_run):
    params, run_dir = one_run
    sampled = sim_io.read_sampled(run_dir)
    assert sampled.schema.remove_metadata() == pa.schema(
        [*sim_io.SAMPLED_SCHEMA, ("policy", pa.string()), ("seed", pa.int64())])
    assert sampled.column("customer").to_pylist() == list(LoyaltyModel(params).journey_idx)
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


# -- atomic writes and completeness --------------------------------------------------------
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
    # a writer killed mid-file (SIGKILL) leaves its temporary file; the next write removes it
    (run_dir / f".{sim_io.TIMESERIES}.99999.tmp").write_bytes(b"half a file")
    monkeypatch.undo()
    sim_io.write_run(run_dir, params, **outputs, wall_seconds=1.0)
    assert sim_io.is_complete(run_dir) and (run_dir / sim_io.TIMESERIES).read_bytes() == before
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


# -- verification: a finished run's files are the ones its manifest records ----------------
def test_manifest_records_every_result_files_size_and_checksum(one_run):
    _, run_dir = one_run
    files = sim_io.read_manifest(run_dir)["files"]
    assert list(files) == list(sim_io.RUN_FILES)
    for name, record in files.items():
        data = (run_dir / name).read_bytes()
        assert record == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert sim_io.verify_run(run_dir) == sim_io.read_manifest(run_dir)


@pytest.fixture(scope="module")
def other_run(tmp_path_factory):
    """A second small run (another seed): its files are foreign to ``one_run``."""
    return run(small_params("policy=silent_hike", "seed=6", "population.journey_sample=100"),
               tmp_path_factory.mktemp("other") / "r")


def _cut(data: bytes) -> bytes:
    return data[:len(data) // 2]


# what is done to which file, and the line that says so (after "<run dir>: ")
DAMAGE = {
    "timeseries truncated": (sim_io.TIMESERIES, _cut,
                             "timeseries.parquet: size mismatch ({cut:,} bytes; the manifest "
                             "says {size:,})"),
    "timeseries empty": (sim_io.TIMESERIES, lambda data: b"",
                         "timeseries.parquet: size mismatch (0 bytes; the manifest says "
                         "{size:,})"),
    "summary truncated": (sim_io.SUMMARY, _cut,
                          "summary.json: size mismatch ({cut:,} bytes; the manifest says "
                          "{size:,})"),
    "one byte changed": (sim_io.HOLDS, lambda data: data[:100] + bytes([data[100] ^ 1])
                         + data[101:],
                         "holds.parquet: checksum mismatch (sha256 differs from the "
                         "manifest's)"),
}


def damaged_copy(run_dir: Path, to: Path) -> Path:
    """A copy of a run directory, to damage."""
    shutil.copytree(run_dir, to)
    return to


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_file_is_named_in_one_line(one_run, tmp_path, case):
    _, done = one_run
    name, damage, line = DAMAGE[case]
    run_dir = damaged_copy(done, tmp_path / "r")
    data = (run_dir / name).read_bytes()
    (run_dir / name).write_bytes(damage(data))
    with pytest.raises(sim_io.RunDamaged) as err:
        sim_io.verify_run(run_dir)
    assert str(err.value) == f"{run_dir}: " + line.format(cut=len(_cut(data)), size=len(data))
    assert (err.value.run_dir, err.value.name) == (run_dir, name)
    assert not sim_io.is_complete(run_dir) and sim_io.complete_runs(tmp_path) == []
    assert [str(e) for e in sim_io.scan_runs(tmp_path)[1]] == [str(err.value)]


def test_another_runs_file_copied_in_is_named_as_foreign(one_run, other_run, tmp_path):
    _, done = one_run
    run_dir = damaged_copy(done, tmp_path / "r")
    (run_dir / sim_io.TIMESERIES).write_bytes((other_run / sim_io.TIMESERIES).read_bytes())
    other = sim_io.read_manifest(other_run)["config_hash"]
    with pytest.raises(sim_io.RunDamaged,
                       match=rf"^{run_dir}: timeseries\.parquet: (size|checksum) mismatch "
                             rf"\(.*\); it is run {other}'s file$"):
        sim_io.verify_run(run_dir)


def test_missing_or_unreadable_files_and_manifests(one_run, tmp_path):
    _, done = one_run
    run_dir = damaged_copy(done, tmp_path / "r")
    (run_dir / sim_io.JOURNEYS).unlink()
    with pytest.raises(sim_io.RunDamaged, match=rf"^{run_dir}: journeys\.parquet: missing$"):
        sim_io.verify_run(run_dir)
    (run_dir / sim_io.JOURNEYS).mkdir()  # not a file: cannot be read
    with pytest.raises(sim_io.RunDamaged,
                       match=rf"^{run_dir}: journeys\.parquet: unreadable \(.+\)$"):
        sim_io.verify_run(run_dir)
    manifest = (run_dir / sim_io.MANIFEST).read_text()
    (run_dir / sim_io.MANIFEST).write_text(manifest[:-10])  # written whole, so damaged
    with pytest.raises(sim_io.RunDamaged, match=rf"^{run_dir}: manifest\.json: unreadable \("):
        sim_io.verify_run(run_dir)
    (run_dir / sim_io.MANIFEST).unlink()  # a run never finished: not damaged
    with pytest.raises(sim_io.RunUnfinished):
        sim_io.verify_run(run_dir)
    assert sim_io.scan_runs(tmp_path) == ([], [])


def test_a_manifest_without_checksums_is_not_trusted(one_run, tmp_path):
    """An earlier cxsim's manifest listed the files without sizes or checksums: its files
    cannot be told from damaged ones, so the run is not complete (a re-run makes it again,
    byte for byte the same, in the same directory)."""
    _, done = one_run
    run_dir = damaged_copy(done, tmp_path / "r")
    manifest = sim_io.read_manifest(run_dir)
    sim_io.write_json(run_dir / sim_io.MANIFEST, {**manifest, "files": list(sim_io.RUN_FILES)})
    with pytest.raises(sim_io.RunDamaged) as err:
        sim_io.verify_run(run_dir)
    assert str(err.value) == (f"{run_dir}: manifest.json: no checksums of the result files "
                              "(written by an earlier cxsim)")
    del manifest["files"]
    sim_io.write_json(run_dir / sim_io.MANIFEST, manifest)
    assert not sim_io.is_complete(run_dir)
