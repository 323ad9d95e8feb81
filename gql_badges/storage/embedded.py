"""The embedded database: a SecantusDB server run as a child process on a free loopback port.

SecantusDB is GPL-2.0, so it is never imported here: it is found as an installed package and run
as a separate program, and the gateway talks to it over the MongoDB wire protocol like any mongod.
"""

from __future__ import annotations

import fcntl
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
# Held (flock) by the one process that runs the embedded server over a data dir. The kernel
# releases it when that process dies, however it dies, so a stale file is simply taken over.
# It is never deleted: a path that is unlinked while locked would let two processes lock
# two different files of the same name.
LOCK_FILE = "gql-badges.lock"


# Run in the child before it becomes the server (`exec`, same process): Linux then sends it
# SIGTERM when the thread that started it ends, however that ends (SIGKILL, the OOM killer), so
# the database never outlives the gateway holding its files, and closes them cleanly. A parent
# already gone by then is not waited for: the child ends at once.
_LAUNCHER = """\
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
    sys.exit("prctl(PR_SET_PDEATHSIG) failed: " + os.strerror(ctypes.get_errno()))
if os.getppid() != int(sys.argv[1]):
    sys.exit("the process that started the embedded database has ended")
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def _tied_to_this_thread(command: list[str]) -> list[str]:
    """`command` (a Python one), run so that it ends when the calling thread does: on Linux,
    through `_LAUNCHER`; elsewhere as it is."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *command[1:]]


class EmbeddedUnavailable(RuntimeError):
    """The embedded database cannot be started (not installed, or it failed to come up)."""


class DataDirInUse(EmbeddedUnavailable):
    """Another live process runs the embedded server over this data dir."""

    def __init__(self, data_dir: Path, pid: int | None, command: str) -> None:
        holder = f"gql-badges {command} (pid {pid})" if pid else "gql-badges process"
        super().__init__(
            f"another {holder} is using {data_dir}; stop it, or set GQL_BADGES_DATA_DIR "
            "to another directory"
        )
        self.pid = pid


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
    """Start with `start()` (or `with`), stop with `stop()`; `uri` is where it listens. On
    Linux the server also stops when the thread that started it ends (`_LAUNCHER`): start it
    from a thread that lives as long as it should, as the main thread does.

    `data_dir` holds the database files (`db/`), the server's log and, while it runs, a small
    runtime file that lets another command (`gql-badges load`) find it. `in_memory` keeps no
    files between runs (tests).
    """

    def __init__(
        self, data_dir: Path, in_memory: bool = False, port: int = 0, command: str = "serve"
    ) -> None:
        self.data_dir = data_dir
        self.in_memory = in_memory
        self.port = port  # 0: any free port
        self.command = command  # who runs it, as another process's error message names it
        self.process: subprocess.Popen[bytes] | None = None
        self.uri: str | None = None
        self._lock_fd: int | None = None

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

    def _lock(self) -> None:
        """Take the data dir, or raise DataDirInUse naming the process that has it."""
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 4096)
            os.close(fd)
            try:
                info = json.loads(holder)
                pid, command = int(info["pid"]), str(info["command"])
            except (ValueError, KeyError, TypeError):
                pid, command = None, "serve"
            raise DataDirInUse(self.data_dir, pid, command) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": self.command}).encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # releases the lock

    def start(self, timeout: float = 60.0) -> str:
        if importlib.util.find_spec("secantus") is None:
            raise EmbeddedUnavailable(
                "the embedded database is not installed: pip install 'gql-badges[embedded]', "
                "or set GQL_BADGES_MONGODB_URI to a MongoDB server"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.in_memory:  # an in-memory server shares no files with anyone
            self._lock()
            self.runtime_file.unlink(missing_ok=True)  # left by an owner that died
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
            _tied_to_this_thread(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
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
        if self._lock_fd is not None:  # only the data dir's owner may remove its runtime file
            self.runtime_file.unlink(missing_ok=True)
        process, self.process = self.process, None
        try:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            self._unlock()  # after the server's exit: its files are free for the next owner

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
