"""Fuzzing every llmmcp.v1.Core method (enumerated from the service descriptor).

Requests are built field by field from the message descriptors: malformed and huge *_json,
huge strings, unknown ids, out-of-range numbers. Every answer is OK or a deliberate status
code (never INTERNAL/UNKNOWN), and a refused call writes no row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from proto import llm_pb2
from proto.client import CoreClient
from testkit.support import examples
from tests.security.test_fuzz_http import CoreThread

EXAMPLES = examples(12)  # per method; TEST_DEPTH=10 for a deep run
DELIBERATE = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.RESOURCE_EXHAUSTED,  # over the 16 MiB message limit
}
UNKNOWN_ID = "4b0b7b6e-2b0a-4c55-9d0e-000000000000"

strings = st.one_of(
    st.sampled_from(["", " ", "echo", UNKNOWN_ID, "not-a-uuid", "\x00", "é" * 3, "x" * 300]),
    st.text(max_size=30),
    st.just("y" * 300_000),
)
json_texts = st.one_of(
    st.sampled_from(["", "{", "[1]", '"s"', "null", "1e999", '{"a": NaN}', "{}", '{"a": 1}']),
    st.just('{"x": "' + "z" * 5_000_000 + '"}'),
    st.just("[" * 10_000 + "]" * 10_000),
    strings,
)


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    t = FieldDescriptor
    if field.type == t.TYPE_MESSAGE:
        return _message(field.message_type, depth + 1) if depth < 2 else st.none()
    if field.type == t.TYPE_STRING:
        return json_texts if field.name.endswith("_json") else strings
    if field.type == t.TYPE_BOOL:
        return st.booleans()
    if field.type in (t.TYPE_DOUBLE, t.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type == t.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    if field.type == t.TYPE_BYTES:
        return st.binary(max_size=10)
    if field.type in (t.TYPE_INT64, t.TYPE_SINT64, t.TYPE_SFIXED64):
        return st.integers(-(2**63), 2**63 - 1)
    if field.type in (t.TYPE_UINT64, t.TYPE_FIXED64):
        return st.integers(0, 2**64 - 1)
    if field.type in (t.TYPE_UINT32, t.TYPE_FIXED32):
        return st.integers(0, 2**32 - 1)
    return st.integers(-(2**31), 2**31 - 1)


@st.composite
def _build(draw: Any, descriptor: Descriptor, depth: int) -> Any:
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if field.message_type and field.message_type.GetOptions().map_entry:
            continue  # maps (tags) are free-form by design
        if not draw(st.booleans()):
            continue
        strategy = _field(field, depth)
        if field.is_repeated:
            values = [v for v in draw(st.lists(strategy, max_size=3)) if v is not None]
            getattr(message, field.name).extend(values)
            continue
        value = draw(strategy)
        if value is None:
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    if descriptor.name == "ClaimJobRequest":
        message.wait_seconds = 0  # a claim may long-poll up to 60 s by design
    return message


def _message(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    return _build(descriptor, depth)


@pytest.fixture
def running(database_url: str) -> Iterator[CoreThread]:
    with CoreThread(database_url) as thread:
        yield thread


def _fuzz(running: CoreThread, method: Any, rpc: Any, problems: list[str]) -> int:
    """Calls `rpc` with generated requests; returns how many calls were made."""
    calls = 0

    @given(request=_message(method.input_type))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(request: Any) -> None:
        nonlocal calls
        before = running.counts()
        calls += 1
        try:
            answer = rpc(request, timeout=20)
            if method.server_streaming:
                for _ in answer:
                    pass
            return
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
        where = f"{method.name} -> {code.name}: {details[:200]}"
        deliberate = code == grpc.StatusCode.UNAVAILABLE and "nothing can serve" in details
        if code not in DELIBERATE and not deliberate:
            problems.append(where)
        if running.counts() != before:
            problems.append(f"{where}: a refused call wrote rows")

    check()
    return calls


@pytest.mark.slow
def test_every_method_answers_bad_input_with_a_deliberate_code(running: CoreThread) -> None:
    assert running.core is not None
    service = llm_pb2.DESCRIPTOR.services_by_name["Core"]
    problems: list[str] = []
    calls = 0
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    with grpc.insecure_channel(running.core.grpc_addr, options=options) as channel:
        for method in service.methods:
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            factory = channel.unary_stream if method.server_streaming else channel.unary_unary
            rpc = factory(
                f"/{service.full_name}/{method.name}",
                request_serializer=request_class.SerializeToString,
                response_deserializer=response_class.FromString,
            )
            calls += _fuzz(running, method, rpc, problems)
    assert calls > 200
    assert not problems, "\n".join(sorted(set(problems))[:30])


async def test_deep_json_and_oversized_benchmark_fields_are_invalid_argument(
    grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    """Found by the fuzzer: both answered UNKNOWN (a RecursionError; a btree index row limit)."""
    stub = grpc_client._stub  # the raw RPCs, to send what our client never would
    with pytest.raises(grpc.aio.AioRpcError) as deep:
        await stub.SubmitJob(
            llm_pb2.SubmitJobRequest(kind="echo", payload_json="[" * 100_000 + "]" * 100_000)
        )
    assert deep.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for report in (
        llm_pb2.ReportBenchmarkRequest(worker_id="w", model="m" * 5000, ok=True),
        llm_pb2.ReportBenchmarkRequest(worker_id="w", model="m", tps=float("nan")),
        llm_pb2.ReportBenchmarkRequest(worker_id="w", model="m", tokens_out=-5),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ReportBenchmark(report)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0
    assert await db.fetchval("SELECT count(*) FROM benchmarks") == 0


async def test_undecodable_requests_to_every_method_are_invalid_argument(
    grpc_client: CoreClient, db: asyncpg.Connection
) -> None:
    """Bytes that are no protobuf message, or carry invalid UTF-8 in a string field, answered
    UNKNOWN; now every method says INVALID_ARGUMENT with our code, and writes nothing."""
    service = llm_pb2.DESCRIPTOR.services_by_name["Core"]
    channel = grpc_client._channel
    problems = []
    for method in service.methods:
        string_field = next(
            (f for f in method.input_type.fields if f.type == FieldDescriptor.TYPE_STRING), None
        )
        raws = [b"\xff\xff\xff\xff"]
        if string_field is not None:
            # field key (number << 3 | length-delimited), length 2, invalid UTF-8
            raws.append(bytes([string_field.number << 3 | 2, 2, 0xFF, 0xFE]))
        factory = channel.unary_stream if method.server_streaming else channel.unary_unary
        call_of = factory(f"/{service.full_name}/{method.name}")
        for raw in raws:
            try:
                call = call_of(raw, timeout=10)
                if method.server_streaming:
                    async for _ in call:
                        pass
                else:
                    await call
                problems.append(f"{method.name} {raw!r}: OK")
            except grpc.aio.AioRpcError as exc:
                trailers = dict(exc.trailing_metadata() or ())
                if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    problems.append(f"{method.name} {raw!r}: {exc.code().name}")
                elif trailers.get("llm-mcp-error-code") != "invalid_input":
                    problems.append(f"{method.name} {raw!r}: no error code")
    assert not problems, problems
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_stream_job_last_event_id_extremes(grpc_client: CoreClient) -> None:
    """int64 extremes: negatives are refused up front, the largest id on a finished job ends
    the stream with its terminal event, an unknown job is NOT_FOUND."""
    from proto import errors

    submitted = await grpc_client.submit_job("echo", {})
    await grpc_client.cancel_job(submitted.job_id)
    for bad in (-1, -(2**63)):
        with pytest.raises(errors.InvalidEventId):
            async for _ in grpc_client.stream_job(submitted.job_id, last_event_id=bad):
                pass
    events = [e async for e in grpc_client.stream_job(submitted.job_id, last_event_id=2**63 - 1)]
    assert [e.type for e in events] == ["canceled"]
    with pytest.raises(errors.JobNotFound):
        async for _ in grpc_client.stream_job(UNKNOWN_ID, last_event_id=2**63 - 1):
            pass
