"""The benchmark's runner stops what it started when it is asked to end (SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A benchmark in miniature: it starts a server (a child process that would run for a minute)
# and stops it in its `finally`, as bench.run does with its gateways, baselines and database.
_BENCHMARK = textwrap.dedent(
    """
    import asyncio, subprocess, sys
    import bench

    async def main():
        server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            print(server.pid, flush=True)
            await asyncio.sleep(60)
        finally:
            server.terminate()
            server.wait(10)

    bench.run_interruptible(main())
    """
)


def test_a_terminated_benchmark_stops_the_servers_it_started() -> None:
    benchmark = subprocess.Popen(
        [sys.executable, "-c", _BENCHMARK], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert benchmark.stdout is not None
    server = int(benchmark.stdout.readline())

    benchmark.send_signal(signal.SIGTERM)

    assert benchmark.wait(30) == 128 + signal.SIGTERM
    try:
        os.kill(server, 0)
    except ProcessLookupError:
        pass  # stopped and reaped by the benchmark
    else:
        os.kill(server, signal.SIGKILL)
        raise AssertionError("the server outlived the benchmark")
