"""Schemathesis against core's OpenAPI schema, on a real core over 127.0.0.1.

Every operation gets schema-valid and schema-violating requests (bounded examples):
no answer is a 5xx, every 4xx is {"error": {"code", "message"}}, and a refused request
writes no row.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from core.runtime import RunningCore
from testkit.bridge import start_bridge
from testkit.support import examples, start_core

# Per operation and mode; TEST_DEPTH=10 for a deep run. The bridge has a few operations only:
# more examples each keep its run well over the hundred calls it must make.
EXAMPLES = examples(15)
BRIDGE_EXAMPLES = examples(30)
# Tables a request could write to; a refused request must leave all of them as they were.
COUNTED = (
    "jobs",
    "job_events",
    "job_attempts",
    "workers",
    "devices",
    "device_metrics",
    "benchmarks",
    "discovery_runs",
)
COUNT_SQL = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in COUNTED)


class CoreThread:
    """Core in its own event loop on a thread, so schemathesis' sync calls can reach it."""

    def __init__(self, database_url: str, *, bridge: bool = False) -> None:
        self._url = database_url
        self._with_bridge = bridge
        self.bridge_url: str | None = None
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self.core: RunningCore | None = None
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        # No tailscale binary: discovery answers quickly that it cannot run.
        async with start_core(self._url, tailscale_bin="/nonexistent/tailscale") as core:
            self.core = core
            if self._with_bridge:
                async with start_bridge(core.grpc_addr) as bridge:
                    self.bridge_url = bridge.url
                    self._started.set()
                    await self._stop.wait()
                return
            self._started.set()
            await self._stop.wait()

    def __enter__(self) -> CoreThread:
        self._thread.start()
        assert self._started.wait(30), "core did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self.loop.close()

    def counts(self) -> tuple[int, ...]:
        assert self.core is not None
        pool = self.core.runtime.pool
        future = asyncio.run_coroutine_threadsafe(pool.fetchrow(COUNT_SQL), self.loop)
        return tuple(future.result(10))


@pytest.fixture
def running(database_url: str) -> Iterator[CoreThread]:
    with CoreThread(database_url) as thread:
        yield thread


def _tame(case: Any) -> None:
    """Keeps generated long polls short (a claim may wait up to 60 s by design)."""
    if isinstance(case.body, dict) and "wait_seconds" in case.body:
        case.body["wait_seconds"] = 0


def error_format_ok(path: str, body: Any) -> bool:
    """Ours is {"error": {code, message}}; the drop-in APIs answer in their provider's format,
    which their clients parse: OpenAI's {"error": {message, type, ...}}, Ollama's {"error": str},
    Anthropic's {"type": "error", "error": {type, message}}."""
    error = body["error"]
    if path.startswith("/api/"):
        return isinstance(error, str) and bool(error)
    if path.startswith("/v1/messages"):
        return body["type"] == "error" and isinstance(error["type"], str) and bool(error["message"])
    if path in ("/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/responses"):
        return isinstance(error["message"], str) and isinstance(error["type"], str)
    return isinstance(error["code"], str) and isinstance(error["message"], str)


def fuzz(
    running: CoreThread, base: str, *, skip: tuple[str, ...] = (), per_operation: int = EXAMPLES
) -> None:
    """Runs schema-valid and -violating requests against every operation of base's schema."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    problems: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in skip:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=per_operation,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                nonlocal calls
                _tame(case)
                before = running.counts()
                response = case.call(base_url=base, timeout=15)
                calls += 1
                where = f"{case.method} {case.formatted_path} -> {response.status_code}"
                # 503 no_route is a deliberate answer (nothing can serve it now: retry later);
                # Anthropic's clients get it as 529 overloaded_error.
                deliberate = response.status_code in (503, 529) and (
                    "no_route" in response.text or "nothing can serve" in response.text
                )
                if response.status_code >= 500 and not deliberate:
                    problems.append(f"{where}: {response.text[:300]}")
                elif response.status_code >= 400:
                    try:
                        assert error_format_ok(case.operation.path, response.json())
                    except (ValueError, KeyError, TypeError, AssertionError):
                        problems.append(f"{where}: not our error format: {response.text[:300]}")
                    if running.counts() != before:
                        problems.append(f"{where}: a refused request wrote rows")

            try:
                check()
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (no parameters, no body).
                assert mode == GenerationMode.NEGATIVE
    assert calls > 100
    assert not problems, "\n".join(sorted(set(problems))[:30])


@pytest.mark.slow
def test_no_5xx_and_refusals_in_our_format_writing_nothing(running: CoreThread) -> None:
    assert running.core is not None
    fuzz(running, running.core.http_url)


@pytest.mark.slow
def test_the_bridge_http_routes_too(database_url: str) -> None:
    with CoreThread(database_url, bridge=True) as running:
        assert running.bridge_url is not None
        # /mcp speaks MCP (JSON-RPC), not our HTTP API: tests/mcp/ covers it.
        fuzz(running, running.bridge_url, skip=("/mcp",), per_operation=BRIDGE_EXAMPLES)


async def test_a_batch_refused_for_an_idempotency_conflict_writes_nothing(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Found by the fuzzer: the batch's other jobs were inserted before the 409."""
    first = await http.post(
        "/v1/jobs", json={"kind": "echo", "idempotency_key": "k", "payload": {}}
    )
    assert first.status_code == 201
    for batch in (
        [{"kind": "echo"}, {"kind": "echo", "idempotency_key": "k", "payload": {"other": 1}}],
        [
            {"kind": "echo", "idempotency_key": "new", "payload": {"a": 1}},
            {"kind": "echo", "idempotency_key": "new", "payload": {"a": 2}},
        ],
    ):
        answer = await http.post("/v1/jobs/batch", json=batch)
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "idempotency_conflict"
        assert await db.fetchval("SELECT count(*) FROM jobs") == 1
        assert await db.fetchval("SELECT count(*) FROM job_events") == 1
    same = await http.post(
        "/v1/jobs/batch", json=[{"kind": "echo"}, {"kind": "echo", "idempotency_key": "k"}]
    )
    assert same.status_code == 201
    assert [j["created"] for j in same.json()["jobs"]] == [True, False]


async def test_the_bridge_refuses_numbers_too_big_for_the_wire(
    core: Any, db: asyncpg.Connection
) -> None:
    """Found by the fuzzer: the bridge answered 500 (protobuf: value out of range)."""
    async with (
        start_bridge(core.grpc_addr) as bridge,
        httpx.AsyncClient(base_url=bridge.url) as http,
    ):
        for body in ({"kind": "echo", "priority": 2**40}, {"kind": "echo", "max_attempts": 2**33}):
            answer = await http.post("/submit", json=body)
            assert answer.status_code == 422, answer.text
            assert "error" in answer.json()
        # Within int32 but out of core's bounds: core's own 422 comes through.
        answer = await http.post("/submit", json={"kind": "echo", "priority": 5000})
        assert answer.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


DEEP = b'{"model": "m", "kind": "echo", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"


def _post_paths(schema: dict[str, Any]) -> list[str]:
    return sorted(
        path.replace("{job_id}", "4b0b7b6e-2b0a-4c55-9d0e-000000000000").replace("{id}", "x")
        for path, methods in schema["paths"].items()
        if "post" in methods
    )


async def test_the_sweep_input_classes_on_every_post_route(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Deep nesting, a text/plain body and a foreign Origin on every POST of core and of the
    bridge: never a 5xx, always the route's error format, and nothing written."""
    counts = await db.fetchrow(COUNT_SQL)
    problems: list[str] = []
    async with start_bridge(core.grpc_addr) as bridge:
        for base in (core.http_url, bridge.url):
            schema = (await http.get(f"{base}/openapi.json")).json()
            paths = [p for p in _post_paths(schema) if p != "/mcp"]
            assert len(paths) > (10 if base == core.http_url else 0)
            for path in paths:
                for headers, body, expected in (
                    ({"content-type": "application/json"}, DEEP, None),
                    ({"content-type": "text/plain"}, b'{"kind": "echo"}', 415),
                    (
                        {"content-type": "application/json", "origin": "https://evil.example"},
                        b'{"kind": "echo"}',
                        403,
                    ),
                ):
                    answer = await http.post(f"{base}{path}", content=body, headers=headers)
                    where = f"{path} {headers} -> {answer.status_code}"
                    if answer.status_code >= 500 and "no_route" not in answer.text:
                        problems.append(where)
                    elif expected is not None and answer.status_code != expected:
                        problems.append(f"{where}, expected {expected}")
                    elif answer.status_code >= 400 and not error_format_ok(path, answer.json()):
                        problems.append(f"{where}: not the route's error format")
    assert not problems, "\n".join(problems[:30])
    # POST /v1/discovery/run takes no body: it runs (and records) a round whatever is sent.
    assert tuple(await db.fetchrow(COUNT_SQL))[:-1] == tuple(counts)[:-1]


async def test_made_up_kinds_never_become_metric_labels(
    core: RunningCore, http: httpx.AsyncClient
) -> None:
    import random
    import string

    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits + "_.:-"
    sample = {"".join(rng.choices(alphabet, k=rng.randint(1, 100))) for _ in range(60)}
    before = len((await http.get("/metrics")).content)
    answer = await http.post("/v1/jobs/batch", json=[{"kind": k} for k in sample])
    assert answer.status_code == 201
    text = (await http.get("/metrics")).text
    assert not [k for k in sample if f'kind="{k}"' in text]
    assert len(text) - before < 2_000
