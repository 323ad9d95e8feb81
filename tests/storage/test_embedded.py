"""One embedded database per data dir: a second `serve` is refused at once, without harming the
first; a lock left by a process that died is taken over, and the database of a gateway killed
outright stops with it; `load` says where it wrote."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from gql_badges.cli import describe_target
from gql_badges.settings import Settings
from gql_badges.storage.embedded import LOCK_FILE, RUNTIME_FILE, DataDirInUse, EmbeddedServer
from tests.support import (
    free_port,
    good_file_beside_the_demo,
    pid_running,
    run_cli,
    serve_embedded,
    wait_until,
)

# A process that holds a data dir's lock as gql-badges does, until it is killed.
_HOLDER = textwrap.dedent(
    """
    import fcntl, json, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "command": "serve"}).encode())
    print("locked", flush=True)
    time.sleep(600)
    """
)


def _hold_lock(data_dir: Path) -> subprocess.Popen[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(data_dir / LOCK_FILE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


@pytest.mark.slow  # a gateway process on an embedded database
def test_a_second_serve_is_refused_and_the_first_keeps_working(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, _, env = serve_embedded(data_dir, tmp_path / "first.log")
    try:
        runtime = (data_dir / RUNTIME_FILE).read_text()
        started = time.monotonic()
        second = run_cli(["serve", "--port", str(free_port())], env, timeout=60)
        assert time.monotonic() - started < 30  # at once: no database started, no port bound
        assert second.returncode != 0
        assert f"another gql-badges serve (pid {first.pid}) is using {data_dir}" in second.stderr
        assert "Traceback" not in second.stderr
        # The first server's runtime file is untouched, so `load` still finds its database.
        assert (data_dir / RUNTIME_FILE).read_text() == runtime
        path = tmp_path / "good.json"
        path.write_text(good_file_beside_the_demo())
        loaded = run_cli(["load", str(path)], env)
        assert loaded.returncode == 0, loaded.stderr
        assert f"on the embedded server at {data_dir}" in loaded.stdout
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(60)


def test_a_live_holder_is_named(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    try:
        with pytest.raises(DataDirInUse) as refused:
            EmbeddedServer(tmp_path).start()
        assert refused.value.pid == holder.pid
        assert f"another gql-badges serve (pid {holder.pid}) is using {tmp_path}" in str(
            refused.value
        )
        assert not (tmp_path / "db").exists()  # refused before any database was started
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow  # starts the embedded database
def test_the_lock_and_runtime_file_of_a_dead_process_are_taken_over(tmp_path: Path) -> None:
    holder = _hold_lock(tmp_path)
    holder.send_signal(signal.SIGKILL)  # dies without cleaning up
    holder.wait()
    stale = {"host": "127.0.0.1", "port": free_port(), "pid": holder.pid}
    (tmp_path / RUNTIME_FILE).write_text(json.dumps(stale))
    assert EmbeddedServer.running_uri(tmp_path) is None
    with EmbeddedServer(tmp_path, command="load") as embedded:
        owner = json.loads((tmp_path / LOCK_FILE).read_text())
        assert owner["command"] == "load" and owner["pid"] != holder.pid
        assert EmbeddedServer.running_uri(tmp_path) == embedded.uri
    assert not (tmp_path / RUNTIME_FILE).exists()
    assert (tmp_path / LOCK_FILE).exists()  # kept: see LOCK_FILE


@pytest.mark.slow  # two gateway processes on an embedded database
def test_the_database_of_a_gateway_killed_outright_stops_and_can_start_again(
    tmp_path: Path,
) -> None:
    """SIGKILL (the OOM killer, `kill -9`) leaves the gateway no time to stop its database: the
    database stops by itself, and the data dir's next database (what the next `serve` starts)
    starts, with the data. Before, the database ran on, holding its files, and every later
    `serve` failed to start one."""
    data_dir = tmp_path / "data"
    first, _, env = serve_embedded(data_dir, tmp_path / "first.log")
    database_pid = json.loads((data_dir / RUNTIME_FILE).read_text())["pid"]
    path = tmp_path / "good.json"
    path.write_text(good_file_beside_the_demo())
    assert run_cli(["load", str(path)], env).returncode == 0
    first.send_signal(signal.SIGKILL)
    first.wait()

    wait_until(lambda: not pid_running(database_pid), 30, "the embedded database to stop")
    client: MongoClient[dict[str, object]]
    with EmbeddedServer(data_dir) as embedded, MongoClient(embedded.uri) as client:
        # what `load` wrote is there
        assert client["badges"].badge_meta.count_documents({"orgId": 7}) == 1


@pytest.mark.parametrize(
    ("uri", "described"),
    [
        ("mongodb://localhost:27017", "database 'badges' at mongodb://localhost:27017"),
        (
            "mongodb://app:s3cret@db1:27017,db2:27017/admin?replicaSet=rs0&authSource=admin",
            "database 'badges' at mongodb://db1:27017,db2:27017",
        ),
        ("mongodb+srv://app:p%40ss@cluster0.example.net/?w=1", "at mongodb+srv://cluster0"),
    ],
)
def test_load_target_never_shows_credentials(uri: str, described: str) -> None:
    text = describe_target(Settings(mongodb_uri=uri), uri, None)
    assert described in text
    assert "s3cret" not in text and "p%40ss" not in text and "app" not in text
