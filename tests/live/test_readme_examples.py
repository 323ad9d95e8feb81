"""The README's "Live badges" examples, run as written (only the port changes) against a
gateway process over the demo data, while the loyalty platform's writes change a record of
the customer they subscribe to. A subscription never ends by itself, so tests/test_readme.py
leaves these to this module."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bson import Int64
from pymongo import AsyncMongoClient

from gql_badges.demo.handles import BIRTHDAY_BADGE, ORG_B, SWATI
from tests.live.harness import NPM_DIR
from tests.support import ROOT, GatewayProcess, load_demo

README = (ROOT / "README.md").read_text()
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def example(language: str) -> str:
    blocks: list[tuple[str, str]] = _BLOCK.findall(README)
    (block,) = [b for lang, b in blocks if lang == language and "badgeChanged" in b]
    assert "127.0.0.1:8000" in block and f'{{id: "{SWATI.key}"}}' in block
    return block


@pytest.fixture(scope="module")
async def demo_gateway(
    mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, Any]]:
    """A gateway process over a database holding the demo data; its base URL and the
    `customer_badges` collection the platform writes."""
    name = f"gql_badges_readme_live_{uuid.uuid4().hex[:8]}"
    await load_demo(mongo_uri, name)
    gateway = GatewayProcess(mongo_uri, name, tmp_path_factory.mktemp("readme-live"))
    await asyncio.to_thread(gateway.start)
    writer: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        yield gateway.base, writer[name]["customer_badges"]
    finally:
        await asyncio.to_thread(gateway.stop)
        await writer.drop_database(name)
        await writer.close()


@contextlib.asynccontextmanager
async def running(command: list[str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def first_line_after_writes(process: asyncio.subprocess.Process, records: Any) -> str:
    """Earn Swati's birthday badge once more, again and again, until the example prints."""
    assert process.stdout is not None
    line = asyncio.ensure_future(process.stdout.readline())
    try:
        for _ in range(120):
            now = datetime.now(UTC)
            await records.update_one(
                {"orgId": ORG_B, "customerId": Int64(SWATI.id), "badgeMetaId": BIRTHDAY_BADGE},
                {"$inc": {"earnCount": 1}, "$set": {"lastEarnedOn": now, "lastUpdatedOn": now}},
            )
            done, _ = await asyncio.wait({line}, timeout=0.5)
            if done:
                text: str = line.result().decode()
                return text
        raise AssertionError("the example printed nothing within a minute of writes")
    finally:
        line.cancel()


def check(printed: str) -> None:
    change = json.loads(printed)
    assert change["kind"] == "EARNED", change
    assert change["badgeMetaId"] == str(BIRTHDAY_BADGE)
    assert change["badge"]["earnCount"] == change["earnCount"] >= 1


async def test_the_node_example_prints_a_change(
    subscribe_script: Path, demo_gateway: tuple[str, Any], tmp_path: Path
) -> None:
    base, records = demo_gateway
    port = base.rsplit(":", 1)[1]
    script = tmp_path / "subscribe.mjs"
    script.write_text(example("js").replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    # The packages the README installs (`npm install graphql-ws ws`), from tests/live/npm's lock.
    (tmp_path / "node_modules").symlink_to(NPM_DIR / "node_modules")
    async with running(["node", str(script)], tmp_path) as process:
        check(await first_line_after_writes(process, records))


async def test_the_python_example_prints_a_change(
    demo_gateway: tuple[str, Any], tmp_path: Path
) -> None:
    base, records = demo_gateway
    port = base.rsplit(":", 1)[1]
    script = tmp_path / "subscribe.py"
    script.write_text(example("python").replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    async with running([sys.executable, str(script)], tmp_path) as process:
        check(await first_line_after_writes(process, records))
