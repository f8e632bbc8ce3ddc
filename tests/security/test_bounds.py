"""Every bound enforced in the schemas, the same on HTTP and gRPC: strict numbers, NUL
refused, timestamps inside the storable range with our own message, bounded ids and
documents, deep nesting refused, undecodable protobuf as INVALID_ARGUMENT."""

from __future__ import annotations

import asyncpg
import grpc
import httpx
import pytest

from core.runtime import RunningCore
from proto import errors
from proto.client import CoreClient


async def _jobs(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM jobs"))


async def test_numbers_are_numbers_and_nul_is_refused(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for body in (
        {"kind": "echo", "priority": True},
        {"kind": "echo", "max_attempts": True},
        {"kind": "echo", "priority": "5"},
        {"kind": "echo", "payload": {"text": "a\u0000b"}},
        {"kind": "echo", "source": "x\u0000"},
    ):
        answer = await http.post("/v1/jobs", json=body)
        assert answer.status_code == 422, (body, answer.text)
    routed = await http.post("/v1/llm/request", json={"prompt": "hi", "temperature": True})
    assert routed.status_code == 422
    assert "temperature" in routed.json()["error"]["message"]
    assert await _jobs(db) == 0


async def test_timestamps_outside_the_storable_range_get_our_message(
    http: httpx.AsyncClient, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    for when in ("0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z"):
        answer = await http.post("/v1/jobs", json={"kind": "echo", "deadline_at": when})
        assert answer.status_code == 422, (when, answer.text)
        message = answer.json()["error"]["message"]
        assert "between 1970-01-01 and 9999-01-01" in message, message
        assert "asyncpg" not in message and "infinity" not in message
        with pytest.raises(errors.ValidationFailed, match="between 1970-01-01"):
            await grpc_client.submit_job("echo", {}, deadline_at=when)
    assert await _jobs(db) == 0


async def test_worker_documents_and_ids_are_bounded(
    core: RunningCore, grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    from proto import llm_pb2 as pb

    with pytest.raises(errors.InvalidInput, match="tags"):
        await grpc_client.register_worker(
            pb.WorkerInfo(id="w1", kinds=["echo"], tags={"t": "x" * 100_000})
        )
    with pytest.raises(errors.InvalidInput, match="worker_id"):
        await grpc_client.report_metrics(worker_id="w" * 5000, device_id="d", metrics={})
    with pytest.raises(errors.InvalidInput, match="metrics"):
        await grpc_client.report_metrics(
            worker_id="w1", device_id="d", metrics={"x": "y" * 100_000}
        )
    with pytest.raises(errors.JobNotFound):
        await grpc_client.report_benchmark(
            pb.ReportBenchmarkRequest(
                job_id="00000000-0000-0000-0000-000000000001", model="m", task_type="generate"
            )
        )
    assert int(await db.fetchval("SELECT count(*) FROM workers")) == 0
    assert int(await db.fetchval("SELECT count(*) FROM benchmarks")) == 0


async def test_deep_nesting_on_the_drop_in_routes_is_a_400(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    deep = b'{"model": "m", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/api/generate", "/api/chat", "/v1/chat/completions", "/v1/embeddings"):
        answer = await http.post(path, content=deep, headers={"content-type": "application/json"})
        assert answer.status_code == 400, (path, answer.status_code, answer.text[:200])


async def test_undecodable_protobuf_is_invalid_argument(core: RunningCore) -> None:
    async with grpc.aio.insecure_channel(core.grpc_addr) as channel:
        for raw in (b"\xff\xff\xff", b"\x0a\x02\xff\xfe"):  # garbage; invalid UTF-8 in job_id
            call = channel.unary_unary("/llmmcp.v1.Core/GetJob")
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(raw, timeout=10)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raw


async def test_an_unknown_status_filter_is_refused_on_both_faces(
    http: httpx.AsyncClient, grpc_client: CoreClient
) -> None:
    answer = await http.get("/v1/jobs", params={"status": "xyz"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"
    with pytest.raises(errors.ValidationFailed, match="status"):
        await grpc_client.list_jobs(status="xyz")
