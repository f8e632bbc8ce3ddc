"""The user docs cover what the code serves, in both languages, and their examples run."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.runtime import RunningCore

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "doc" / "README.md", ROOT / "doc" / "README.ru.md"]
BRIDGE_ROUTES = ["/health", "/submit", "/jobs/{id}", "/jobs/{id}/stream", "/mcp"]
MCP_TOOLS = [
    "llm_request",
    "submit_job",
    "get_job",
    "wait_job",
    "cancel_job",
    "list_devices",
    "list_models",
    "queue_stats",
]
TEXTS = {doc: doc.read_text() for doc in DOCS}
JOB_KINDS = [
    "ollama.generate",
    "ollama.embed",
    "openai.chat",
    "openrouter.chat",
    "benchmark.ollama.generate",
    "benchmark.ollama.embed",
    "echo",
]


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{id}", path)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_core_endpoint_is_documented(openapi_schema: dict[str, Any], doc: Path) -> None:
    schema = openapi_schema
    text = TEXTS[doc]
    missing = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if f"{method.upper()} {_normalise(path)}" not in text
    ]
    assert "GET /metrics" in text and "GET /docs" in text
    assert not missing, f"{doc.name} does not document {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_bridge_tools_and_kinds_are_documented(doc: Path) -> None:
    text = doc.read_text()
    for word in [*BRIDGE_ROUTES, *MCP_TOOLS, *JOB_KINDS]:
        assert f"`{word}" in text or f" {word}" in text, f"{doc.name}: {word}"


def test_both_languages_have_the_same_shape() -> None:
    english, russian = (d.read_text() for d in DOCS)
    for pattern in (r"^## ", r"^```", r"^\| "):
        counts = [len(re.findall(pattern, t, re.M)) for t in (english, russian)]
        assert counts[0] == counts[1], (pattern, counts)
    assert len(re.findall("[\u0430-\u044f\u0451]", russian)) > 10_000


def test_relative_links_resolve() -> None:
    for doc in [*DOCS, ROOT / "README.md", ROOT / "doc" / "integration_channel_mcp.md"]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_readme_quick_start_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/llm-mcp up" in readme
    )
    test_cmd = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest"
    assert test_cmd in readme and test_cmd in (ROOT / ".ci" / "run").read_text()
    assert "docker compose up -d" in readme and "/v1/llm/request" in readme and "/mcp" in readme


async def test_the_grpc_example_runs(core: RunningCore) -> None:
    text = TEXTS[DOCS[0]]
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "CoreClient(" in b)

    def run() -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(block.replace("127.0.0.1:9090", core.grpc_addr), {"__name__": "doc"})
        return out.getvalue()

    printed = await asyncio.to_thread(run)
    job_id = re.search(r'job_id: "([0-9a-f-]{36})"', printed)
    assert job_id, printed
    async with httpx.AsyncClient(base_url=core.http_url) as http:
        assert (await http.get(f"/v1/jobs/{job_id.group(1)}")).json()["kind"] == "echo"
