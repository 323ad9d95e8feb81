"""The embedded database: a SecantusDB server run as a child process on a free loopback port.

SecantusDB is GPL-2.0, so it is never imported here: it is found as an installed package and run
as a separate program, and the gateway talks to it over the MongoDB wire protocol like any mongod.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

_LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")
RUNTIME_FILE = "embedded.json"


class EmbeddedUnavailable(RuntimeError):
    """The embedded database cannot be started (not installed, or it failed to come up)."""


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedServer:
    """Start with `start()` (or `with`), stop with `stop()`; `uri` is where it listens.

    `data_dir` holds the database files (`db/`), the server's log and, while it runs, a small
    runtime file that lets another command (`gql-badges load`) find it. `in_memory` keeps no
    files between runs (tests).
    """

    def __init__(self, data_dir: Path, in_memory: bool = False, port: int = 0) -> None:
        self.data_dir = data_dir
        self.in_memory = in_memory
        self.port = port  # 0: any free port
        self.process: subprocess.Popen[bytes] | None = None
        self.uri: str | None = None

    @property
    def runtime_file(self) -> Path:
        return self.data_dir / RUNTIME_FILE

    @staticmethod
    def running_uri(data_dir: Path) -> str | None:
        """The URI of a server that a running `serve` started for `data_dir`, if any."""
        try:
            info = json.loads((data_dir / RUNTIME_FILE).read_text())
            host, port, pid = info["host"], int(info["port"]), int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if _pid_alive(pid) and _port_open(host, port):
            return f"mongodb://{host}:{port}/?directConnection=true"
        return None

    def start(self, timeout: float = 60.0) -> str:
        if importlib.util.find_spec("secantus") is None:
            raise EmbeddedUnavailable(
                "the embedded database is not installed: pip install 'gql-badges[embedded]', "
                "or set GQL_BADGES_MONGODB_URI to a MongoDB server"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        storage = ":memory:" if self.in_memory else str(self.data_dir / "db")
        log_path = self.data_dir / "secantus.log"
        log = log_path.open("ab")
        start_offset = log.tell()
        command = [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            storage,
            "--log-level",
            "INFO",
        ]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with log_path.open("rb") as reader:
                reader.seek(start_offset)
                match = _LISTENING.search(reader.read().decode(errors="replace"))
            if match:
                host, port = match.group(1), int(match.group(2))
                self.uri = f"mongodb://{host}:{port}/?directConnection=true"
                if not self.in_memory:
                    info = {"host": host, "port": port, "pid": self.process.pid}
                    self.runtime_file.write_text(json.dumps(info))
                return self.uri
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise EmbeddedUnavailable(f"the embedded database did not start; see {log_path}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop cleanly (SIGTERM lets WiredTiger checkpoint), killing only as a last resort."""
        if not self.in_memory:
            self.runtime_file.unlink(missing_ok=True)
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
