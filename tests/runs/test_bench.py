"""``cxsim-bench``: the benchmark's output. Timings are never asserted: they belong to the
machine, not to the code."""

import json

from sim.runs import bench


def test_bench_prints_one_json_line(capsys):
    assert bench.main(["--customers", "300", "--days", "4", "--threads", "1",
                       "--compare-reference", "--reference-customers", "60",
                       "--reference-days", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert set(out) == {
        "customers", "days", "threads", "burn_in_years", "seed", "compile_s", "build_s", "run_s", "total_s",
        "customer_days_per_s", "peak_rss_mb", "reference_customers", "reference_days",
        "reference_customer_days_per_s", "speedup_vs_reference",
        "speedup_vs_reference_same_size"}
    assert (out["customers"], out["days"], out["threads"], out["burn_in_years"]) == (300, 4, 1, 0)
    assert (out["reference_customers"], out["reference_days"]) == (60, 2)
    for key in ("build_s", "run_s", "customer_days_per_s", "peak_rss_mb",
                "reference_customer_days_per_s"):
        assert out[key] > 0, key


def test_bench_without_reference_has_no_speedup(capsys):
    bench.main(["--customers", "100", "--days", "2", "--threads", "1"])
    out = json.loads(capsys.readouterr().out)
    assert "speedup_vs_reference" not in out and out["customers"] == 100
