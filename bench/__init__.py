"""The benchmark: the gateway against a raw driver baseline, in one run (see bench/README.md)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def numbers(text: str) -> list[int]:
    """An option's comma-separated integers (`--page-sizes 10,100,1000`), as argparse's `type`."""
    return [int(number) for number in text.split(",")]


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where SIGTERM cancels `main` as Ctrl-C interrupts it: its `finally`
    blocks then stop the servers and the database it started, instead of leaving them running
    (the signal's default ends the process at once). Ends with SystemExit(143), the status of a
    process a SIGTERM ended."""

    async def terminable() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        terminated: list[bool] = []

        def terminate() -> None:
            terminated.append(True)
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, terminate)
        try:
            return await main
        except asyncio.CancelledError:
            if terminated:
                raise SystemExit(128 + signal.SIGTERM) from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        return asyncio.run(terminable())
    finally:
        signal.signal(signal.SIGTERM, previous)  # the loop leaves the default in place
