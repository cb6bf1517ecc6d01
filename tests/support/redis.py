"""A throwaway Redis server for a test run: Debian's redis-server on a free loopback port,
without persistence (.ci/run installs it, as it does Chromium)."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

REDIS_SERVER = Path("/usr/bin/redis-server")
START_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start(folder: Path) -> Server:
    """A server answering PING on 127.0.0.1, keeping nothing on disk."""
    port = _free_port()
    command = [
        str(REDIS_SERVER),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(folder),
        "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip
    server = Server(subprocess.Popen(command, stdin=subprocess.DEVNULL), port)
    deadline = time.monotonic() + START_SECONDS
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        while True:
            try:
                client.ping()
                return server
            except redis.ConnectionError:
                if server.process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    log = (folder / "redis.log").read_text(errors="replace")[-2000:]
                    message = f"redis-server did not start on port {port}:\n{log}"
                    raise RuntimeError(message) from None
                time.sleep(0.05)
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
