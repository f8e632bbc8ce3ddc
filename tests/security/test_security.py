"""Security: tokens on every route and method (enumerated, so a new one cannot slip through),
size limits, payload addresses, and secrets that never reach logs, rows or error messages."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from google.protobuf import message_factory

from core.grpc.auth import WORKER_METHODS
from core.http.app import create_app
from core.http.auth import require_worker
from core.runtime import RunningCore
from proto import llm_pb2
from testkit.fakes.ollama import FakeOllama
from testkit.fakes.openai import FakeOpenAI
from testkit.fakes.server import CannedError, serving
from testkit.fakes.telegram import TOKEN, fake_telegram
from testkit.fleet import add_device
from testkit.support import eventually, provider_worker, start_core
from tests.telemetry.test_telemetry_service import direct_settings, telemetry

CLIENT = "client-secret-Zq7"
WORKER = "worker-secret-Xk9"
OPENAI_KEY = "sk-openai-secret-Pw3"
OPENROUTER_KEY = "sk-or-secret-Vb5"
TELEGRAM = "987654:telegram-secret-Hd2"
SECRETS = (CLIENT, WORKER, OPENAI_KEY, OPENROUTER_KEY, TELEGRAM)
# Open by design (/health stays open; /metrics is Prometheus; the API's own docs).
PUBLIC = {"/health", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# Ollama clients probe the root and the version before anything else; neither says anything
# about the fleet.
PUBLIC |= {"/api/version", "/"}
# The dashboard's page and assets hold no data (it asks for the token, then reads the API).
PUBLIC |= {"/ui", "/ui/", "/ui/assets/{version}/{path:path}"}


@pytest.fixture
async def guarded(database_url: str) -> AsyncIterator[RunningCore]:
    async with start_core(database_url, api_token=CLIENT, worker_token=WORKER) as c:
        yield c


def _walk(routes: Any) -> Iterator[Any]:
    """Every route, through included routers (FastAPI >= 0.130 nests them)."""
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from _walk(route.effective_candidates())
        elif getattr(route, "methods", None) and hasattr(route, "endpoint"):
            yield route


def _calls(dependant: Any) -> Iterator[Any]:
    for dep in getattr(dependant, "dependencies", ()):
        yield dep.call
        yield from _calls(dep)


def _routes(core: RunningCore) -> list[tuple[str, str, bool]]:
    """(method, path with ids filled in, whether it is a worker route) of non-public routes."""
    app = create_app(core.runtime)
    found = []
    for route in _walk(app.routes):
        if route.path in PUBLIC:
            continue
        worker = require_worker in set(_calls(getattr(route, "dependant", None)))
        for method in sorted(set(route.methods) - {"HEAD", "OPTIONS"}):
            found.append((method, re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path), worker))
    return found


@pytest.mark.slow
async def test_every_http_route_refuses_a_missing_or_wrong_token(
    guarded: RunningCore, db: asyncpg.Connection
) -> None:
    routes = _routes(guarded)
    paths = {p for _, p, _ in routes}
    assert {"/v1/jobs", "/v1/workers/claim", "/v1/dashboard"} <= paths
    assert {p for _, p, worker in routes if worker} >= {"/v1/workers/claim", "/v1/devices/offline"}
    async with httpx.AsyncClient(base_url=guarded.http_url, timeout=10) as http:
        for method, path, worker in routes:
            wrong = ["Bearer nope", f"Basic {CLIENT}", CLIENT]
            # Worker routes take only the worker token; client routes only the client token.
            wrong.append(f"Bearer {CLIENT}" if worker else f"Bearer {WORKER}")
            for header in (None, *wrong):
                headers = {"authorization": header} if header else {}
                answer = await http.request(method, path, json={}, headers=headers)
                assert answer.status_code == 401, (method, path, header, answer.text)
                error = answer.json()["error"]
                if path.startswith("/api/"):  # Ollama's format: {"error": "message"}
                    assert "token" in error
                elif path.startswith("/v1/messages"):  # Anthropic's: {"type", "error": {...}}
                    assert error["type"] == "authentication_error"
                else:  # ours, and OpenAI's (which carries a code too)
                    assert error["code"] == "unauthorized"
                assert not any(s in answer.text for s in SECRETS)
        assert (await http.get("/health")).status_code == 200
        for public in ("/metrics", "/openapi.json"):
            text = (await http.get(public)).text
            assert not any(s in text for s in SECRETS)
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


def _core_methods() -> list[tuple[str, Any, Any]]:
    service = llm_pb2.DESCRIPTOR.services_by_name["Core"]
    methods = []
    for m in service.methods:
        request = message_factory.GetMessageClass(m.input_type)
        response = message_factory.GetMessageClass(m.output_type)
        methods.append((m, request, response))
    return methods


async def test_every_grpc_method_refuses_a_missing_or_wrong_token(
    guarded: RunningCore, db: asyncpg.Connection
) -> None:
    methods = _core_methods()
    assert len(methods) >= 20
    async with grpc.aio.insecure_channel(guarded.grpc_addr) as channel:
        for method, request, response in methods:
            path = f"/{method.containing_service.full_name}/{method.name}"
            factory = channel.unary_stream if method.server_streaming else channel.unary_unary
            call_of = factory(
                path,
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )
            wrong = ["Bearer nope", CLIENT]
            wrong.append(
                f"Bearer {CLIENT}" if method.name in WORKER_METHODS else f"Bearer {WORKER}"
            )
            for header in (None, *wrong):
                metadata = (("authorization", header),) if header else ()
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    call = call_of(request(), metadata=metadata, timeout=10)
                    if method.server_streaming:
                        async for _ in call:
                            pass
                    else:
                        await call
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, method.name
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_body_and_field_size_limits(database_url: str, db: asyncpg.Connection) -> None:
    async with (
        start_core(database_url, max_body_bytes=64 * 1024) as core,
        httpx.AsyncClient(base_url=core.http_url, timeout=10) as http,
    ):
        huge = await http.post("/v1/jobs", json={"kind": "echo", "payload": {"x": "a" * 70_000}})
        assert huge.status_code == 413
        assert huge.json()["error"]["code"] == "payload_too_large"
        for body in (
            {"kind": "echo", "source": "s" * 201},
            {"kind": "k" * 101},
            {"kind": "echo", "priority": 10**6},
            {"kind": "echo", "max_attempts": 0},
            {"kind": "echo", "idempotency_key": "i" * 201},
        ):
            answer = await http.post("/v1/jobs", json=body)
            assert answer.status_code == 422, body
            assert set(answer.json()["error"]) >= {"code", "message"}
        claim = {"worker_id": "w", "kinds": ["echo"], "lease_seconds": 10**6}
        assert (await http.post("/v1/workers/claim", json=claim)).status_code == 422
        limit = await http.get("/v1/jobs", params={"limit": 10**6})
        assert limit.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM jobs") == 0


async def test_sneaky_payload_addresses_reach_only_the_known_device(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    async with (
        serving(FakeOllama("127.0.0.2")) as device,
        serving(FakeOllama("127.0.0.3")) as elsewhere,
    ):
        await add_device(db, "gpu.ts.net.", device.url)
        refused = [
            elsewhere.url,
            f"127.0.0.3:{elsewhere.port}",
            f"http://127.0.0.2:{device.port}\\@127.0.0.3:{elsewhere.port}",
            "http://169.254.169.254/latest/meta-data",
        ]
        for addr in refused:
            answer = await http.post(
                "/v1/jobs",
                json={"kind": "ollama.generate", "payload": {"prompt": "x", "ollama_addr": addr}},
            )
            assert answer.status_code == 422, addr
        # Addresses that parse to the device, dressed up: admitted, and the claim replaces them
        # with the device's own address, so the worker never dials what the payload said.
        dressed = [
            f"http://127.0.0.3:{elsewhere.port}\\@127.0.0.2:{device.port}",
            f"http://127.0.0.2:{device.port}#@127.0.0.3:{elsewhere.port}",
        ]
        ids = []
        for addr in dressed:
            answer = await http.post(
                "/v1/jobs",
                json={"kind": "ollama.generate", "payload": {"prompt": "x", "ollama_addr": addr}},
            )
            if answer.status_code == 201:
                ids.append(answer.json()["job_id"])
            else:
                assert answer.status_code == 422, addr
        async with provider_worker(core.grpc_addr):
            for job_id in ids:

                async def done(job_id: str = job_id) -> bool:
                    job = (await http.get(f"/v1/jobs/{job_id}")).json()
                    return job["status"] in ("done", "error")

                await eventually(done, within=20)
    assert elsewhere.requests == []
    assert len(device.requests) == len(ids)


async def test_secrets_never_reach_logs_rows_or_errors(
    database_url: str, db: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A provider that echoes the key it got in its error (as proxies and some APIs do).
    fake = FakeOpenAI("127.0.0.4", api_key=OPENAI_KEY)
    fake.errors.append(
        CannedError(401, {"error": {"message": f"Incorrect API key provided: {OPENAI_KEY}"}})
    )
    async with (
        start_core(database_url, api_token=CLIENT, worker_token=WORKER) as core,
        serving(fake),
        httpx.AsyncClient(
            base_url=core.http_url, headers={"authorization": f"Bearer {CLIENT}"}, timeout=10
        ) as http,
    ):
        settings: dict[str, Any] = {
            "core_grpc_addr": core.grpc_addr,
            "worker_token": WORKER,
            "api_token": CLIENT,
            "openai_api_key": OPENAI_KEY,
            "openai_base_url": fake.base_url,
            "openrouter_api_key": OPENROUTER_KEY,
        }
        # The worker presents its worker token (WORKER_TOKEN) and an id of its own.
        async with provider_worker(
            core.grpc_addr, worker_id="secret-test-worker", worker_claim_wait=2, **settings
        ):
            answers = []
            for _ in range(2):
                submitted = await http.post(
                    "/v1/jobs", json={"kind": "openai.chat", "payload": {"prompt": "hi"}}
                )
                job_id = submitted.json()["job_id"]

                async def finished(job_id: str = job_id) -> dict[str, Any] | None:
                    job = (await http.get(f"/v1/jobs/{job_id}")).json()
                    return job if job["status"] in ("done", "error") else None

                answers.append(await eventually(finished, within=20))
        assert sorted(a["status"] for a in answers) == ["done", "error"]
        failed = next(a for a in answers if a["status"] == "error")
        assert "Incorrect API key provided" in failed["error"]
        texts = [str(a) for a in answers]
        texts.append((await http.post("/v1/jobs", json={"kind": "?"})).text)
        texts.append((await http.get("/v1/dashboard")).text)
    rows = await db.fetch(
        "SELECT row_to_json(t)::text AS r FROM ("
        " SELECT 'job', to_jsonb(j) FROM jobs j UNION ALL"
        " SELECT 'attempt', to_jsonb(a) FROM job_attempts a UNION ALL"
        " SELECT 'event', to_jsonb(e) FROM job_events e UNION ALL"
        " SELECT 'worker', to_jsonb(w) FROM workers w) t"
    )
    texts += [r["r"] for r in rows]
    texts.append(caplog.text)
    for secret in SECRETS:
        leaks = [t[:200] for t in texts if secret in t]
        assert not leaks, (secret, leaks)


async def test_the_telegram_token_stays_out_of_logs(
    core: RunningCore, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with fake_telegram() as fake:
        settings = direct_settings(core.grpc_addr, fake, tmp_path / "state.json")
        async with telemetry(settings) as service:
            assert await service.run_once() == "sent"
        assert fake.messages
    assert "bot[redacted]/sendMessage" in caplog.text  # the request was logged, token hidden
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
