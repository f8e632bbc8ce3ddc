"""doc/integration_channel_mcp.md runs: its Python blocks, top to bottom, against a real core
and a real worker whose Ollama, OpenAI and OpenRouter are the fakes of testkit/fakes/.
Then the helper's own promises: the polling fallback, timeouts, errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.runtime import RunningCore
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import serving
from testkit.fleet import add_device
from testkit.support import provider_worker

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "doc" / "integration_channel_mcp.md"
sys.path.insert(0, str(ROOT / "doc" / "examples"))

import llm_mcp_client  # noqa: E402


@contextlib.asynccontextmanager
async def fleet(core: RunningCore, db: asyncpg.Connection) -> AsyncIterator[FakeOllama]:
    """One Ollama device (chat and embedding models), OpenAI and OpenRouter, one worker."""
    ollama = FakeOllama("127.0.0.5", models=["llama3.2:1b", "nomic-embed-text"])
    openai = FakeOpenAI("127.0.0.6", prefix="/v1", api_key="sk-openai")
    openrouter = FakeOpenAI("127.0.0.7", prefix="/api/v1", api_key="sk-openrouter")
    async with serving(ollama), serving(openai), serving(openrouter):
        await add_device(
            db, "gpu1.ts.net.", ollama.url, {"llama3.2:1b": 1.2, "nomic-embed-text": 0.1}
        )
        async with provider_worker(
            core.grpc_addr,
            worker_id=f"doc-{uuid.uuid4().hex[:6]}",
            ollama_base_url=ollama.url,
            openai_api_key="sk-openai",
            openai_base_url=openai.base_url,
            openrouter_api_key="sk-openrouter",
            openrouter_base_url=openrouter.base_url,
        ):
            yield ollama


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def run_blocks(base_url: str) -> tuple[dict[str, Any], str]:
    """Executes the doc's blocks in one namespace, as a reader pasting them would."""
    namespace: dict[str, Any] = {"__name__": "doc_example"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in python_blocks():
            code = block.replace("http://127.0.0.1:8080", base_url)
            exec(compile(code, str(DOC), "exec"), namespace)
    namespace["client"].close()
    return namespace, out.getvalue()


async def test_the_documented_examples_run(core: RunningCore, db: asyncpg.Connection) -> None:
    assert len(python_blocks()) >= 6
    async with fleet(core, db):
        namespace, printed = await asyncio.to_thread(run_blocks, core.http_url)
    lines = printed.splitlines()
    # Each provider answered the same prompt, and the answer was read the same way.
    assert "ollama ollama.generate echo: ping 20" in lines
    assert "openai openai.chat re: ping 7" in lines
    assert "openrouter openrouter.chat re: ping 7" in lines
    assert namespace["vector"] == [0.5, -0.25, 5.0]
    assert "echo: Hello" in lines
    assert "422 validation_failed" in lines and "canceled" in lines
    assert "error payload needs messages or prompt" in lines
    assert "10 channel-mcp 2" in lines  # this job and the first block's
    assert "{'polled': True}" in lines


@pytest.fixture
def client(core: RunningCore) -> Any:
    with httpx.Client(base_url=core.http_url, timeout=30) as c:
        yield c


async def test_polling_alone_finds_the_result(
    core: RunningCore, db: asyncpg.Connection, client: httpx.Client
) -> None:
    async with fleet(core, db):
        job = await asyncio.to_thread(
            llm_mcp_client.submit_and_wait,
            client,
            request={"task": "chat", "provider": "ollama", "prompt": "poll"},
            use_sse=False,
        )
    assert llm_mcp_client.answer_text(job) == "echo: poll"
    assert job["device_id"] == "gpu1.ts.net."


async def test_a_stream_that_breaks_off_falls_back_to_polling(
    core: RunningCore, db: asyncpg.Connection, client: httpx.Client
) -> None:
    body = {"kind": "echo", "payload": {"x": 1}}
    job_id = (await asyncio.to_thread(client.post, "/v1/jobs", json=body)).json()["job_id"]
    # No worker yet: the job stays queued and the stream's read gives up, as when a proxy
    # cuts a quiet stream.
    deadline = time.monotonic() + 0.3
    assert await asyncio.to_thread(llm_mcp_client._follow_sse, client, job_id, deadline) is None
    async with fleet(core, db):
        job = await asyncio.to_thread(llm_mcp_client._poll, client, job_id, time.monotonic() + 20)
    assert job is not None and job["status"] == "done" and job["result"] == {"x": 1}


async def test_timeout_cancels_and_errors_keep_core_s_reason(
    core: RunningCore, client: httpx.Client
) -> None:
    with pytest.raises(llm_mcp_client.JobTimeout) as timed_out:
        await asyncio.to_thread(
            llm_mcp_client.submit_and_wait, client, kind="nobody.runs", timeout=0.5
        )
    job = (await asyncio.to_thread(client.get, f"/v1/jobs/{timed_out.value.job_id}")).json()
    assert job["status"] == "canceled"
    with pytest.raises(llm_mcp_client.LlmMcpError) as refused:
        await asyncio.to_thread(
            llm_mcp_client.submit_and_wait, client, request={"task": "chat", "prompt": "x"}
        )
    # No worker at all: no provider can serve it, and nothing was queued.
    assert refused.value.status == 503 and refused.value.message
    assert (await asyncio.to_thread(client.get, "/v1/jobs")).json()["jobs"] == [job]
