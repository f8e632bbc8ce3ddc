"""One error contract: every error class comes out with the same code on core's HTTP, the
drop-in APIs, gRPC (the client raises the same class), the bridge's HTTP and MCP tools."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI
from mcp import Client

from core.compat.openai_views import error_for
from core.grpc.servicer import CoreServicer, _translated
from core.runtime import RunningCore
from mcp_bridge.tools import build_mcp_server
from proto import errors
from proto import llm_pb2 as pb
from proto import llm_pb2_grpc as pb_grpc
from proto.client import CoreClient
from proto.http_errors import install_error_handlers
from testkit.bridge import start_bridge

CLASSES = errors.error_classes()


class RaisingServicer(CoreServicer):
    """Core's real gRPC translation, driven by a GetJob that raises the class named by job_id."""

    def __init__(self) -> None:
        pass

    @_translated
    async def GetJob(self, request: pb.GetJobRequest, context: Any) -> pb.Job:
        cls = errors.class_for_code(request.job_id)
        assert cls is not None
        raise cls.received(f"raised {cls.code}")


@contextlib.asynccontextmanager
async def raising_core() -> AsyncIterator[str]:
    server = grpc.aio.server()
    pb_grpc.add_CoreServicer_to_server(RaisingServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def test_codes_are_unique_and_every_class_is_listed() -> None:
    codes = [c.code for c in CLASSES]
    assert len(codes) == len(set(codes))
    assert {"job_finished", "lease_lost", "job_not_found", "unauthorized"} <= set(codes)
    with pytest.raises(TypeError, match="taken"):
        type("Again", (errors.CoreError,), {"code": "job_finished"})


async def test_every_class_has_one_code_on_every_face() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{code}")
    async def _raise(code: str) -> None:
        cls = errors.class_for_code(code)
        assert cls is not None
        raise cls.received(f"raised {code}")

    transport = httpx.ASGITransport(app=app)
    async with (
        raising_core() as addr,
        CoreClient(addr, timeout=10) as core,
        start_bridge(addr) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as bridge_http,
        httpx.AsyncClient(transport=transport, base_url="http://core") as core_http,
        Client(build_mcp_server(core)) as mcp,
    ):
        for cls in CLASSES:
            answer = await core_http.get(f"/raise/{cls.code}")
            assert (answer.status_code, answer.json()["error"]["code"]) == (
                cls.http_status,
                cls.code,
            )

            _status, body = error_for(cls.received("x"))
            assert body["error"]["code"] == cls.code

            with pytest.raises(errors.CoreError) as raised:
                await core.get_job(cls.code)
            assert type(raised.value) is cls, cls
            assert raised.value.message == f"raised {cls.code}"

            via_bridge = await bridge_http.get(f"/jobs/{cls.code}")
            assert via_bridge.json()["error"]["code"] == cls.code, cls

            tool = await mcp.call_tool("get_job", {"job_id": cls.code})
            assert tool.is_error
            assert f"[{cls.code}] " in tool.content[0].text, tool.content[0].text


async def test_cancel_of_a_finished_job_reads_job_finished_everywhere(
    core: RunningCore, http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    job_id = (await http.post("/v1/jobs", json={"kind": "echo"})).json()["job_id"]
    [claimed] = await grpc_client.claim(worker_id="w1", kinds=["echo"], lease_seconds=30)
    await grpc_client.complete(
        worker_id="w1", job_id=job_id, lease_token=claimed.lease_token, result={"ok": True}
    )
    assert (await http.get(f"/v1/jobs/{job_id}")).json()["status"] == "done"

    on_http = await http.post(f"/v1/jobs/{job_id}/cancel")
    assert on_http.status_code == 409
    assert on_http.json()["error"]["code"] == "job_finished"

    with pytest.raises(errors.JobFinished):
        await grpc_client.cancel_job(job_id)

    async with Client(build_mcp_server(grpc_client)) as mcp:
        tool = await mcp.call_tool("cancel_job", {"job_id": job_id})
    assert tool.is_error
    assert "[job_finished] " in tool.content[0].text, tool.content[0].text
    assert "lease" not in tool.content[0].text


def test_the_error_table_in_the_docs_matches_the_contract() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "doc" / "errors.md").read_text()
    for cls in CLASSES:
        row = f"| `{cls.code}` | {cls.http_status} | `{cls.grpc_status.name}` |"
        assert row in text, row
