"""Helpers of the cluster launchers' tests: the sweep every launcher runs, its run files,
the processes of a session and the sockets they listen on."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import time
from pathlib import Path

from sim.runs import io as sim_io
from sim.runs import study
from tests.helpers import script_env

# six runs: two policies x three seeds, small (the model's numbers are not looked at)
SWEEP = ["-m", "policy=baseline,silent_hike", "seed=0,1,2", "population.size=300",
         "horizon_days=60", "burn_in_years=0", "population.journey_sample=50",
         "progress=false", "study=cluster"]
RUNS = 6
# a sample design (Latin hypercube, 2 points) over those 6 jobs, 2 points a job: 12 runs in
# 6 jobs, each reading the design from the shared results directory
DESIGN = ["hydra/sweeper=cxsim_lhs", "uncertainty=silent_hike", "hydra.sweeper.n=2",
          "hydra.sweeper.runs_per_job=2"]
# Ray on the loopback address only: Ray replaces 127.0.0.1 by the machine's address unless
# it believes it is not part of a cluster (ray._private.services.get_node_ip_address). The
# head and the drivers share a token of this test session: Ray would otherwise take (and a
# Ray started by ray.init would write) ~/.ray/auth_token
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
# the tables of a collected study, compared byte for byte between launchers
TABLES = (study.RUNS, study.DAILY, study.STUDY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sweep_args(root: Path, *launcher: str) -> list[str]:
    """The sweep's command line with its results below ``root`` (absolute: Ray's workers
    run elsewhere)."""
    return [*SWEEP, f"results_dir={root / 'results'}", *launcher]


def sweep_env() -> dict:
    return {**script_env(), **RAY_ENV}


def sweep(python: Path | str, root: Path, *launcher: str,
          timeout: float = 400) -> subprocess.CompletedProcess:
    """Run the sweep with ``python``'s cxsim-run and ``launcher`` overrides, in ``root``."""
    return subprocess.run([str(python), "-m", "sim.runs.cli", *sweep_args(root, *launcher)],
                          cwd=root, env=sweep_env(), capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)


def start_sweep(python: Path | str, root: Path, *launcher: str,
                log: Path | None = None) -> subprocess.Popen:
    """The sweep started in its own session (to be stopped by process id); its output in
    ``log``."""
    out = open(log or root / "sweep.log", "w")
    return subprocess.Popen([str(python), "-m", "sim.runs.cli", *sweep_args(root, *launcher)],
                            cwd=root, env=sweep_env(), stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def run_files(study_dir: Path) -> dict[str, dict[str, bytes]]:
    """Every complete run of a study by its directory (relative to the study): its result
    files' bytes (not the manifest, which records times, nor Hydra's record, which names
    the results directory); and the study's tables as ``""``."""
    out = {d.relative_to(study_dir).as_posix(): {n: (d / n).read_bytes()
                                                 for n in sim_io.RUN_FILES}
           for d in sim_io.complete_runs(study_dir)}
    out[""] = {n: (study_dir / n).read_bytes() for n in TABLES if (study_dir / n).is_file()}
    return out


def wait_for_runs(study_dir: Path, proc: subprocess.Popen, at_least: int = 1,
                  timeout: float = 300) -> int:
    """Wait until ``at_least`` runs of the study are complete (or the sweep ended)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        done = len(sim_io.complete_runs(study_dir)) if study_dir.is_dir() else 0
        if done >= at_least:
            return done
        time.sleep(0.1)
    return len(sim_io.complete_runs(study_dir)) if study_dir.is_dir() else 0


def session_pids(sid: int) -> list[int]:
    """The processes of session ``sid`` (/proc/<pid>/stat, field 6)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def process_titles(pids: list[int]) -> dict[int, str]:
    out = {}
    for pid in pids:
        try:
            out[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            pass
    return out


LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\])$")


def listeners() -> list[tuple[str, list[int]]]:
    """Every listening TCP socket and bound UDP socket on the machine (``ss -lntupH``): its
    local address and the ids of the processes holding it."""
    out = subprocess.run(["ss", "-lntupH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        found.append((parts[4], [int(p) for p in re.findall(r"pid=(\d+)", line)]))
    return found


def listeners_of(pids: set[int]) -> dict[str, bool]:
    """The sockets ``pids`` listen on, as ``"address pid"``: whether on the loopback
    address."""
    out = {}
    for address, holders in listeners():
        host = address.rsplit(":", 1)[0]
        for pid in set(holders) & pids:
            out[f"{address} pid {pid}"] = bool(LOOPBACK.match(host))
    return out
