"""`gql-badges serve` as a real process on a free port, against a given MongoDB URI."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gql_badges.demo import demo_documents
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from gql_badges.storage.loading import validate_documents, write_documents

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GatewayProcess:
    """Started by `start()`, answering /readyz; `stop()` sends SIGTERM and waits."""

    def __init__(self, mongo_uri: str, database: str, log_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stdout_path = log_dir / f"gateway-{self.port}.out"
        self.stderr_path = log_dir / f"gateway-{self.port}.err"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GQL_BADGES_", "OTEL_"))
        }
        self.env |= {
            "GQL_BADGES_MONGODB_URI": mongo_uri,
            "GQL_BADGES_DATABASE": database,
            "GQL_BADGES_JWT_SECRET": "gateway-process-secret-" + "j" * 24,
            "GQL_BADGES_CREATE_INDEXES": "false",
        } | env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> GatewayProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> GatewayProcess:
        """Start the process without waiting (several start side by side, then wait_ready)."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gql_badges.cli", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
        )
        return self

    def wait_ready(self, timeout: float = 60) -> GatewayProcess:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited: {self.stderr_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.process.kill()
        raise AssertionError(f"gateway not ready: {self.stderr_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.stderr_path.read_text()


async def load_demo(mongo_uri: str, database_name: str) -> None:
    """The demo data set in a database of its own, for gateways started as processes."""
    settings = Settings(database=database_name, driver=Driver.PYMONGO)
    database = Database(settings, mongo_uri)
    try:
        await database.ensure_indexes()
        await write_documents(database, validate_documents(demo_documents()))
    finally:
        await database.close()
