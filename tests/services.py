"""Real servers for the tests: a PostgreSQL in a temporary data folder, a two-node Ray cluster on this machine.

Each is started once per test session by a fixture in conftest.py and stopped after it. Nothing is faked:
the PostgreSQL is Debian's `postgresql` package (tools/test.sh installs it where it is missing), run as the
`postgres` user when the tests run as root (it refuses root); the Ray cluster is `ray start --head` plus a
second `ray start --address`, each with its own temporary folder, its own MODELKIT_HOME (no disk shared: the
store is all that they share) and two logical CPUs.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from polling import free_port

ROOT = Path(__file__).resolve().parent.parent


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run tools/test.sh, which installs it "
                           "(Debian's postgresql package)")
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free loopback port, trusting local connections."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="modelkit-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "60",
                                     "-l", str(self.folder / "log"), "start"]), check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database on this server: its URL."""
        import sqlalchemy as sa

        name = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return self.url(name)

    def stop(self):
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


class RayCluster:
    """A head node and a second node on this machine, each its own temp folder, its own MODELKIT_HOME
    (`homes`: what a node caches; a test may delete them) and two (logical) CPUs."""

    def __init__(self, cpus_per_node: int = 2):
        self.folders = [Path(tempfile.mkdtemp(prefix=f"modelkit-ray{i}-", dir="/tmp")) for i in range(2)]
        self.homes = [Path(tempfile.mkdtemp(prefix=f"modelkit-node{i}-home-", dir="/tmp")) for i in range(2)]
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # token auth off: a Ray once started on demand here leaves ~/.ray/auth_token behind, and a cluster
        # that picks it up refuses a client that does not (the test process sets the same, see conftest)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
        self.env.pop("MODELKIT_DB_URL", None)   # a node learns the store from the actors it is given
        common = ["--num-cpus", str(cpus_per_node), "--num-gpus", "0", "--object-store-memory", "80000000",
                  "--disable-usage-stats"]
        self._ray(["start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(self.port),
                   "--include-dashboard", "false", "--temp-dir", str(self.folders[0]), *common], self.homes[0])
        self._ray(["start", "--address", self.address, "--node-ip-address", "127.0.0.1",
                   "--temp-dir", str(self.folders[1]), *common], self.homes[1])

    def _ray(self, args: list[str], home: Path):
        ray = str(Path(sys.executable).with_name("ray"))
        env = {**self.env, "MODELKIT_HOME": str(home)}   # each node's own cache of the store's blobs
        done = subprocess.run([ray if os.path.exists(ray) else "ray", *args], env=env, capture_output=True,
                              text=True, timeout=180)
        if done.returncode:
            raise RuntimeError(f"ray {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def pids(self) -> list[int]:
        """The processes of this cluster, no other Ray's: those naming its temp folders on their command
        line, and their descendants (Ray's agents rename themselves and name no folder)."""
        marks = [str(f).encode() for f in self.folders]
        parents, ours = {}, set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                line = (entry / "cmdline").read_bytes()
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if any(mark in line for mark in marks):
                ours.add(int(entry.name))
        grown = True
        while grown:
            children = {pid for pid, parent in parents.items() if parent in ours} - ours
            ours |= children
            grown = bool(children)
        return sorted(ours)

    def stop(self):
        """End this cluster's processes by their ids (`ray stop` would end every Ray on the machine).

        Their ids are taken first: an agent whose parent has ended no longer shows as its descendant."""
        ours = self.pids()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in ours:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            end = time.monotonic() + 10
            while any(_running(pid) for pid in ours) and time.monotonic() < end:
                time.sleep(0.1)
        for folder in self.folders + self.homes:
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an ended child that no one has reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False
