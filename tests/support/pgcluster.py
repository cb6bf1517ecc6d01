"""A throwaway PostgreSQL cluster for the test run, started from the installed server binaries.

initdb and pg_ctl run as the postgres user when we are root; the socket lives in a
temporary directory (no TCP port); everything is stopped and removed afterwards.
`python -m tests.support.pgcluster --available` exits 0 when the binaries exist.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATABASE = "grants_test"


def find_bindir() -> Path | None:
    found = shutil.which("initdb")
    candidates = [str(Path(found).resolve().parent)] if found else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


@dataclass
class Cluster:
    root: Path
    bindir: Path

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/{DATABASE}?host={self.socket_dir}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        """Shut the server down (an outage), keeping its data for resume()."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server again after pause()."""
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=120"
        )
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", log, "-w", "start")

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr or result.stdout}")


def start() -> Cluster:
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) were not found.")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="grants-pg-")), bindir)
    cluster.socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(cluster.root, "postgres")
        shutil.chown(cluster.socket_dir, "postgres")
    try:
        _init_and_start(cluster)
    except Exception:
        cluster.stop()
        raise
    return cluster


def _init_and_start(cluster: Cluster) -> None:
    cluster._run(
        "initdb", "-D", str(cluster.data_dir), "-U", "postgres", "-A", "trust",
        "-E", "UTF8", "--locale=C", "--no-sync",
    )  # fmt: skip
    cluster.resume()
    import psycopg

    conninfo = f"host={cluster.socket_dir} user=postgres dbname=postgres"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--available"]:
        sys.exit(0 if find_bindir() else 1)
    sys.exit("usage: python -m tests.support.pgcluster --available")
