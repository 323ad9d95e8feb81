"""The README's examples, pasted as written into a shell, against a running `gql-badges serve`.

Only the port changes (the test's server listens on a free one). Every shell block is either run
here or named in SKIPPED with the reason, so a new example cannot go untested unnoticed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, serve_embedded

README = (ROOT / "README.md").read_text()
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARKER = "@@README-BLOCK {}@@"

# A phrase of each shell block not run here, and why.
SKIPPED = {
    "./dev test": "`./dev serve` is what this test starts; `./dev test` is the suite itself",
    "export GQL_BADGES_MONGODB_URI=": "needs a MongoDB of its own at localhost:27017",
    "docker compose up": "no Docker engine here (tests/test_compose.py reads the file)",
    "bench.run": "the benchmark and the load run take minutes",
    "./dev lock": "re-resolves the lock from the index and then runs the whole suite",
    "node subscribe.mjs": "a subscription runs until stopped: tests/live/test_readme_examples.py"
    " runs the examples with writes in between",
}


def blocks(language: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(README) if lang == language]


def _skip_reason(block: str) -> str | None:
    return next((why for phrase, why in SKIPPED.items() if phrase in block), None)


def json_documents(text: str) -> list[object]:
    """The JSON answers a block printed one after another (curl adds no newline)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while (position := _skip_space(text, position)) < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def documented_answer(block: str) -> object | None:
    """The answer a block shows in its comment lines (`# {...}` continued by `#   ...`)."""
    lines = [line[1:].strip() for line in block.splitlines() if line.startswith("#")]
    return json.loads(" ".join(lines)) if lines and lines[0].startswith("{") else None


def test_every_shell_block_is_run_or_skipped_for_a_reason() -> None:
    shell = blocks("sh")
    assert len(shell) >= 6
    run = [block for block in shell if _skip_reason(block) is None]
    assert all("curl" in block or "./dev" in block for block in run), run
    assert sum("curl" in block for block in run) >= 4
    for block in shell:  # nothing the README offers is missing from the first ten minutes
        assert "gql-badges " not in block.replace("gql-badges serve", ""), (
            "call the command as ./dev COMMAND: gql-badges is not on PATH after ./dev serve"
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    tmp = tmp_path_factory.mktemp("readme")
    server, base, env = serve_embedded(tmp / "data", tmp / "serve.log")
    try:
        yield base, env, tmp
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


@pytest.mark.slow  # a gateway process on an embedded database
def test_the_shell_examples_work_as_written(served: tuple[str, dict[str, str], Path]) -> None:
    if shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("curl is missing: .ci/run installs it")
        pytest.skip("curl is not installed (apt-get install curl)")
    base, env, tmp = served
    port = base.rsplit(":", 1)[1]
    work = tmp / "work"
    work.mkdir()
    (work / "dev").symlink_to(ROOT / "dev")  # `./dev ...` as typed in a clone's directory
    run = [block for block in blocks("sh") if _skip_reason(block) is None]
    script = "set -eu\n" + "".join(
        f"printf '\\n{MARKER.format(index)}\\n'\n{block}" for index, block in enumerate(run)
    )
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    result = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = re.split(r"\n@@README-BLOCK \d+@@\n", result.stdout)[1:]
    assert len(outputs) == len(run)
    for block, output in zip(run, outputs, strict=True):
        if "./dev load" in block:
            assert "Loaded " in output, output
            assert f"on the embedded server at {tmp / 'data'}" in output, output
            assert "type Query" in output  # export-schema
            continue
        answers = json_documents(output)
        assert answers, block
        expected = documented_answer(block)
        if expected is not None:
            assert answers == [expected], block
            continue
        for answer in answers:
            assert isinstance(answer, dict), answer
            assert answer.get("errors") in (None, []), (block, answer)
            assert answer.get("data") or answer.get("status") in ("ok", "ready"), (block, answer)


@pytest.mark.slow  # a gateway process on an embedded database
def test_the_graphiql_example_answers_with_the_header_shown(
    served: tuple[str, dict[str, str], Path],
) -> None:
    """The query and the Authorization header that the README tells a person to paste."""
    base, _, _ = served
    (header,) = re.findall(r'`(\{"Authorization": "Basic [^"]+"\})`', README)
    (query,) = blocks("graphql")
    response = httpx.post(f"{base}/graphql", json={"query": query}, headers=json.loads(header))
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["customerBadges"]["badges"]
    assert body["data"]["badgeManagement"]["pagination"]["total"] >= 0
