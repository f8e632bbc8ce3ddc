"""Without an Ollama: `up`'s start-up line says it is not reachable and what that means, and a
job that then fails on the default Ollama is one WARNING line with its id and reason."""

from __future__ import annotations

import logging

import httpx
import pytest

from core.runtime import RunningCore
from llm_mcp.provider_probe import cloud_line, ollama_line
from testkit.fakes.server import closed_port
from testkit.support import eventually, running_worker


def test_start_up_line_for_an_ollama_that_is_not_there() -> None:
    url = closed_port()
    with httpx.Client(timeout=2) as client:
        line = ollama_line(client, url)
        assert line.startswith(f"not reachable at {url}: connection refused")
        assert "ollama jobs will wait or fail" in line and "OLLAMA_BASE_URL" in line
        assert cloud_line(client, "openai", None, "http://127.0.0.1:1/v1").startswith(
            "off (no OPENAI_API_KEY"
        )


@pytest.mark.slow
async def test_a_job_failing_on_the_default_ollama_is_one_warning(
    core: RunningCore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="worker.runner")
    gone = closed_port()
    async with (
        running_worker(core.grpc_addr, ollama_base_url=gone),
        httpx.AsyncClient(base_url=core.http_url) as http,
    ):
        job_id = (
            await http.post(
                "/v1/jobs",
                json={"kind": "ollama.generate", "payload": {"prompt": "hi"}, "max_attempts": 1},
            )
        ).json()["job_id"]

        async def ended() -> bool:
            return (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "error"

        await eventually(ended, within=30)
    lines = [r for r in caplog.records if "default Ollama" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "WARNING"
    assert getattr(lines[0], "job_id", None) == job_id
    assert gone in lines[0].getMessage() and "OLLAMA_BASE_URL" in lines[0].getMessage()
