"""Bad input that used to get through ``cxsim-run``'s checks (issue 18): accepted but wrong,
a traceback, or a line naming the wrong key. Each now stops before any run with one line
naming the key, the value and what is allowed, and exit status 2."""

from __future__ import annotations

import re
import shutil

import pytest

from sim.runs import config as sim_config
from sim.runs.cli import check
from sim.runs.config import MAX_NAME, NAME_RULE, compose_jobs, error_line
from sim.core.params import ParamError
from tests.helpers import POLICIES, cxsim_run

TOP = ("baseline, behaviour, burn_in_years, comparisons, costs, force, horizon_days, market, "
       "objective, policy, population, progress, reps, results_dir, seed, silos, study")
NAME = f"must be {NAME_RULE}"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run in a temporary directory: a case that got through would write only there."""
    monkeypatch.chdir(tmp_path)


def stops_with(argv: list[str], capsys) -> str:
    """The one line ``check`` prints (without the program's prefix) when it stops."""
    with pytest.raises(SystemExit) as stop:
        check(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("cxsim-run: ") and err.count("\n") == 1, err
    return err[len("cxsim-run: "):-1]


CASES = [
    # not booleans (OmegaConf would take 2 or yes for true)
    (["policy.review_call=2"], "policy.review_call=2: must be true or false"),
    (["progress=2"], "progress=2: must be true or false"),
    (["force=yes"], "force=yes: must be true or false"),
    (["-m", "policy.callback=true,0"], "policy.callback=true,0: must be true or false"),
    (["-m", "progress=range(2)"], "progress=range(2): must be true or false"),
    # a key or config group given twice: the last would win silently
    (["policy=baseline", "policy=silent_hike"],
     "policy=silent_hike: policy is given twice (policy=baseline and policy=silent_hike); "
     "give each key once"),
    (["seed=1", "population.size=500", "seed=1"],
     "seed=1: seed is given twice (seed=1 and seed=1); give each key once"),
    # keys added with +: unknown like any other
    (["+nosuchgroup=x"], f"nosuchgroup=x: unknown key; allowed in the top level: {TOP}"),
    (["+foo=1"], f"foo=1: unknown key; allowed in the top level: {TOP}"),
    (["++seeds=1"], f"seeds=1: unknown key; did you mean seed? allowed in the top level: {TOP}"),
    # config groups added with + (taken silently, or "Multiple values"), removed with ~
    (["+policy=silent_hike"], "+policy=silent_hike: policy is a config group of the defaults "
     "list (configs/config.yaml); choose one with policy=silent_hike, without '+'"),
    (["+policy=baseline"], "+policy=baseline: policy is a config group of the defaults "
     "list (configs/config.yaml); choose one with policy=baseline, without '+'"),
    (["++population=default"], "++population=default: population is a config group of the "
     "defaults list (configs/config.yaml); choose one with population=default, without '+'"),
    (["+experiment=headline"], "+experiment=headline: experiment is a config group of the "
     "defaults list (configs/config.yaml); choose one with experiment=headline, without '+'"),
    (["~policy"], "~policy: cannot remove the policy config group (every run needs one); "
     "choose one with policy=<name>, one of " + ", ".join(POLICIES)),
    # parameters removed with ~ (ran the default, or "Error merging override")
    (["~seed"], "~seed: cannot remove a parameter (every parameter has a value); set it with "
     "seed=<value>, an integer in [0, 9223372036854775807]"),
    (["~policy.price_change"], "~policy.price_change: cannot remove a parameter (every "
     "parameter has a value); set it with policy.price_change=<value>, a number in (-1, 100]"),
    # names of directories: nothing outside results_dir, not empty, not too long
    (["study=../escape"], f"study='../escape': {NAME}"),
    (["study=.."], f"study='..': {NAME}"),
    (["study=a/b"], f"study='a/b': {NAME}"),
    (["study="], f"study='': {NAME}"),
    (["study=" + "s" * 300], f"study='{'s' * 40}'... (300 characters): {NAME}"),
    (["policy.name=" + "p" * 5000], f"policy.name='{'p' * 40}'... (5000 characters): {NAME}"),
    (["results_dir="], "results_dir='': must be a directory path, not empty"),
    # no key
    (["=5"], "=5: no key before '='; write key=value"),
    # non-ASCII values: what the key allows (Hydra's grammar takes ASCII outside quotes)
    (["policy.name=ümlaut"], f"policy.name='ümlaut': {NAME}"),
    (["study=日本"], f"study='日本': {NAME}"),
    (["policy.name='ümlaut'"], f"policy.name='ümlaut': {NAME}"),
    (["population.size=ü"], "population.size='ü': must be an integer in [1, 50000000]"),
    (["policy.explanation=ü"], "policy.explanation='ü': must be one of none, cost, lock_in"),
    (["policy=ümlaut"], "policy=ümlaut: no such policy config; allowed: " + ", ".join(POLICIES)),
    (["results_dir=/tmp/ü"], "results_dir=/tmp/ü: cannot parse this override (non-ASCII "
     "characters must be quoted); write results_dir='/tmp/ü'"),
    # interpolations that cannot be resolved name their key
    (["population.size=${oc.env:NO_SUCH_VAR_CXSIM}"],
     "population.size=${oc.env:NO_SUCH_VAR_CXSIM}: cannot resolve: environment variable "
     "'NO_SUCH_VAR_CXSIM' not found"),
    (["population.size=${nonexistent}"],
     "population.size=${nonexistent}: cannot resolve: interpolation key 'nonexistent' not found"),
    (["study=${nonexistent}"],
     "study=${nonexistent}: cannot resolve: interpolation key 'nonexistent' not found"),
    # the output directory: the key it came from
    (["hydra.run.dir=/proc/x"], "hydra.run.dir=/proc/x: cannot write /proc/x (No such file or "
     "directory); must be a directory that can be created and written"),
    # a config directory that is not there
    (["-cd", "/nonexistent/cxsim-configs"],
     "--config-dir=/nonexistent/cxsim-configs: no such directory"),
]


@pytest.mark.parametrize("argv,line", CASES, ids=[" ".join(a)[:40] for a, _ in CASES])
def test_bad_input_stops_with_one_line(argv, line, capsys):
    assert stops_with(argv, capsys) == line


def test_the_same_values_when_they_are_good_are_taken(tmp_path):
    cfgs = compose_jobs(["policy.review_call=true", "progress=False",
                         "force=${oc.env:CXSIM_NO_SUCH_VAR,false}", "study=my.study-2",
                         "policy.name=" + "p" * MAX_NAME, f"results_dir='{tmp_path}/ü'"])
    assert cfgs[0].policy.review_call is True and cfgs[0].progress is False
    assert cfgs[0].force is False and cfgs[0].study == "my.study-2"
    assert cfgs[0].results_dir == f"{tmp_path}/ü"
    assert len(compose_jobs(["policy.callback=true,false", "seed=0,1"], multirun=True)) == 4


def test_error_line_of_the_new_checks():
    with pytest.raises(ParamError) as caught:
        compose_jobs(["study=.."])
    assert error_line(caught.value, ["study=.."]) == f"study='..': {NAME}"


# -- config files that are not valid YAML --------------------------------------------------
BROKEN = "# broken: a study\nstudy: broken\nhydra:\n  sweeper:\n    params:\n      seed: [1,\n"


@pytest.fixture
def configs_with_broken_files(tmp_path, monkeypatch):
    """A copy of configs/ with a broken experiment and a broken policy, as the configs."""
    copy = tmp_path / "configs"
    shutil.copytree(sim_config.CONFIG_DIR, copy)
    (copy / "experiment" / "broken.yaml").write_text(BROKEN)
    (copy / "policy" / "broken.yaml").write_text("name: broken\nrep_help: 0.3\n  rep_handoff: 1\n")
    monkeypatch.setattr(sim_config, "CONFIG_DIR", copy)
    monkeypatch.setattr(sim_config, "EXPERIMENTS_DIR", copy / "experiment")
    return copy


def test_a_broken_config_file_is_named_with_its_line(configs_with_broken_files, capsys):
    copy = configs_with_broken_files
    experiment = (f"experiment=broken: {copy}/experiment/broken.yaml, line 7, column 1: "
                  "not valid YAML (expected the node content, but found '<stream end>')")
    assert stops_with(["-m", "experiment=broken"], capsys) == experiment
    assert stops_with(["experiment=broken"], capsys) == experiment
    assert stops_with(["policy=broken"], capsys) == (
        f"policy=broken: {copy}/policy/broken.yaml, line 3, column 14: not valid YAML "
        "(mapping values are not allowed here)")
    assert stops_with(["-m", "policy=glob(*)"], capsys).startswith(
        f"{copy}/policy/broken.yaml, line 3, column 14: not valid YAML")


def test_a_broken_unrelated_file_does_not_stop_other_runs(configs_with_broken_files, tmp_path,
                                                          capsys):
    for argv in ([], ["policy=silent_hike"], ["-m", "policy=baseline,cx_core", "seed=0,1"],
                 ["-m", "experiment=premium_hike"]):
        assert check([*argv, f"results_dir={tmp_path}/results"])
        assert capsys.readouterr().err == ""


# -- the command line (subprocesses): one line, no traceback, exit 2, nothing written --------
@pytest.mark.parametrize("args,line", [
    (["policy=baseline", "policy=silent_hike"],
     "policy=silent_hike: policy is given twice (policy=baseline and policy=silent_hike); "
     "give each key once"),
    (["=5"], "=5: no key before '='; write key=value"),
    (["study=../escape"], f"study='../escape': {NAME}"),
    (["-cd", "/nonexistent/cxsim-configs"],
     "--config-dir=/nonexistent/cxsim-configs: no such directory"),
])
def test_cli_bad_input_one_line_no_traceback(args, line, tmp_path):
    result = cxsim_run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"cxsim-run: {line}\n"
    assert not any(tmp_path.iterdir())


def test_cli_broken_yaml_in_a_config_dir_is_one_line(tmp_path):
    extra = tmp_path / "extra"
    (extra / "experiment").mkdir(parents=True)
    (extra / "experiment" / "broken.yaml").write_text(BROKEN)
    result = cxsim_run("-cd", str(extra), "-m", "experiment=broken", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"cxsim-run: experiment=broken: {extra}/experiment/broken.yaml, line 7, column 1: "
        "not valid YAML (expected the node content, but found '<stream end>')\n")
    assert not (tmp_path / "results").exists()


# -- booleans inside config files (composing reads review_call: 2 or yes as true) ------------
HEADER = "defaults:\n  - /schema/policy@_here_\n  - _self_\n"


@pytest.mark.parametrize("name,text,argv,line", [
    ("policy/two.yaml", HEADER + "name: two\nreview_call: 2\n", ["policy=two"],
     "policy/two.yaml: policy.review_call=2: must be true or false"),
    ("policy/yes.yaml", HEADER + "name: yes_\ncallback: yes\n", ["policy=yes"],
     "policy/yes.yaml: policy.callback=yes: must be true or false"),
    ("experiment/flag.yaml", "# @package _global_\n# flag: a study\npolicy:\n  listening: on\n",
     ["experiment=flag"], "experiment/flag.yaml: policy.listening=on: must be true or false"),
    ("experiment/dotted.yaml", "# @package _global_\n# dotted: a study\nforce: 1\n",
     ["experiment=dotted"], "experiment/dotted.yaml: force=1: must be true or false"),
    ("experiment/sweep.yaml", "# @package _global_\n# sweep: a study\nhydra:\n  sweeper:\n"
     "    params:\n      policy.callback: true,0\n", ["-m", "experiment=sweep"],
     "experiment/sweep.yaml: hydra.sweeper.params: policy.callback=true,0: must be true or "
     "false"),
])
def test_a_boolean_inside_a_config_file_is_true_or_false(name, text, argv, line, tmp_path,
                                                         capsys):
    extra = tmp_path / "extra"
    (extra / name).parent.mkdir(parents=True)
    (extra / name).write_text(text)
    assert stops_with(["-cd", str(extra), *argv], capsys) == line
    (extra / name).write_text(re.sub(r"(: |\btrue,)(2|yes|on|1|0)\n", r"\1true\n", text))
    assert check(["-cd", str(extra), *argv, f"results_dir={tmp_path}/results"])


def test_every_shipped_policy_and_experiment_passes_the_file_checks(tmp_path):
    for group, names in (("policy", POLICIES), ("experiment", sorted(sim_config.experiment_files()))):
        for name in names:
            [cfg] = compose_jobs([f"{group}={name}", f"results_dir={tmp_path}"])
            assert len(sim_config.config_files(cfg)) == 8 + (group == "experiment")
