"""A real single-node SLURM cluster for the workflow tests: munged, slurmctld and slurmd on this host.

Debian's ``slurm-wlm`` and ``munge`` packages provide the daemons (``.ci/run`` and ``make test``
install them). The configuration goes where every SLURM program looks by default,
``/etc/slurm/slurm.conf`` (inside a job ``srun`` ignores ``SLURM_CONF`` from the submitting shell), marked
as this test's so that a real cluster's file is never overwritten; state, spool and logs live in one
directory. The node
advertises one GPU as a generic resource backed by ``/dev/null``, so a job that asks for
``--gpus=1`` (the workflow profile's ``gpu: 1``) is scheduled as it would be on a GPU cluster; torch
sees no CUDA device inside it and the learner runs on the CPU (``device: auto``). Accounting is off,
so ``sacct`` is empty and the executor must poll with ``squeue``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CONF_DIR = Path("/etc/slurm")
MARKER = "# written by tests/slurm_cluster.py of the ML10 harness"
PACKAGES = "slurm-wlm munge"


class ClusterUnavailable(RuntimeError):
    """The cluster cannot start on this machine; the message says what is missing and the fix."""


@dataclass
class SlurmCluster:
    root: Path
    env: dict[str, str]
    partition: str = "debug"

    def squeue_all(self) -> str:
        return subprocess.run(["squeue", "-a", "-h"], env=self.env, capture_output=True, text=True).stdout

    def controller_log(self) -> str:
        path = self.root / "slurmctld.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        for name in ("slurmd", "slurmctld"):
            pid_file = self.root / f"{name}.pid"
            if pid_file.exists():
                _kill(int(pid_file.read_text().split()[0]))
        munge_pid = self.root / "munged.pid"
        if munge_pid.exists():
            _kill(int(munge_pid.read_text().split()[0]))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass


def _slurm_conf(root: Path, host: str, cpus: int, memory_mb: int) -> str:
    return "\n".join([
        MARKER,
        "ClusterName=harness-test",
        f"SlurmctldHost={host}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/slurmctld.pid",
        f"SlurmdPidFile={root}/slurmd.pid",
        f"SlurmctldLogFile={root}/slurmctld.log",
        f"SlurmdLogFile={root}/slurmd.log",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none",
        "SwitchType=switch/none",
        "MpiDefault=none",
        "ReturnToService=2",
        "SchedulerParameters=sched_interval=1",
        "MessageTimeout=30",
        "GresTypes=gpu",
        f"NodeName={host} CPUs={cpus} RealMemory={memory_mb} Gres=gpu:1 State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def start_cluster(root: Path, timeout: float = 60.0) -> SlurmCluster:
    """Start munged, slurmctld and slurmd with their files in ``root``; wait until the node is idle."""
    missing = [name for name in DAEMONS if shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists()]
    if missing:
        raise ClusterUnavailable(f"{missing} not installed: apt-get install -y {PACKAGES} (as root)")
    if os.geteuid() != 0:
        raise ClusterUnavailable("the test cluster's daemons run as root; run the tests as root")
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool", "munge"):
        (root / sub).mkdir(exist_ok=True)
    host = socket.gethostname()
    cpus = os.cpu_count() or 1
    memory_mb = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    conf = CONF_DIR / "slurm.conf"
    if conf.exists() and MARKER not in conf.read_text():
        raise ClusterUnavailable(f"{conf} belongs to a real SLURM installation; run this test elsewhere")
    CONF_DIR.mkdir(parents=True, exist_ok=True)
    conf.write_text(_slurm_conf(root, host, cpus, memory_mb))
    (CONF_DIR / "gres.conf").write_text(f"{MARKER}\nNodeName={host} Name=gpu File=/dev/null\n")
    env = {**os.environ, "SLURM_CONF": str(conf)}

    socket_path = root / "munge" / "munge.socket"
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        subprocess.run(["/usr/sbin/mungekey", "--create", "--keyfile", str(key)], check=True)
    subprocess.run(["/usr/sbin/munged", "--force", f"--socket={socket_path}", f"--key-file={key}",
                    f"--pid-file={root / 'munged.pid'}", f"--log-file={root / 'munged.log'}",
                    f"--seed-file={root / 'munge' / 'seed'}"], check=True, env=env)
    # every slurm program finds munge through the default socket path
    default_socket = Path("/run/munge/munge.socket.2")
    default_socket.parent.mkdir(parents=True, exist_ok=True)
    default_socket.unlink(missing_ok=True)
    default_socket.symlink_to(socket_path)

    subprocess.run(["/usr/sbin/slurmctld", "-f", str(conf), "-i"], check=True, env=env)
    subprocess.run(["/usr/sbin/slurmd", "-f", str(conf)], check=True, env=env)
    cluster = SlurmCluster(root, env)
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
        if state.strip() in {"idle", "mixed"}:
            return cluster
        time.sleep(0.5)
    cluster.stop()
    raise ClusterUnavailable(
        f"the SLURM node did not become idle within {timeout:.0f} s (sinfo: {state.strip()!r}); "
        f"see {root}/slurmctld.log and {root}/slurmd.log"
    )
