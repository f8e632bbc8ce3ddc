"""No cross-site submissions: JSON routes take only JSON bodies, a foreign Origin is refused,
an allowed one gets a proper CORS preflight. Nothing is written for a refused request."""

from __future__ import annotations

import asyncpg
import httpx

from core.runtime import RunningCore
from testkit.bridge import start_bridge
from testkit.support import start_core

DROP_IN = ("/api/generate", "/api/chat", "/v1/chat/completions", "/v1/embeddings")
ROUTES = (*DROP_IN, "/v1/jobs", "/v1/llm/request", "/v1/jobs/batch")
BODY = b'{"model": "llama3.2:1b", "prompt": "hi", "kind": "echo", "task": "chat"}'


async def _jobs(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM jobs"))


async def test_a_form_or_text_body_is_refused_with_415(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for path in ROUTES:
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            None,
        ):
            headers = {"content-type": content_type} if content_type else {}
            answer = await http.post(path, content=BODY, headers=headers)
            assert answer.status_code == 415, (path, content_type, answer.text)
    assert (await http.post("/api/generate", content=BODY)).json() == {
        "error": "this route takes JSON: send the body with Content-Type: application/json"
    }
    openai = (await http.post("/v1/chat/completions", content=BODY)).json()["error"]
    assert openai["code"] == "unsupported_media_type"
    assert openai["type"] == "invalid_request_error"
    assert (await http.post("/v1/jobs", content=BODY)).json()["error"]["code"] == (
        "unsupported_media_type"
    )
    assert await _jobs(db) == 0
    # JSON with parameters, +json types and body-less POSTs still pass.
    ok = await http.post(
        "/v1/jobs", content=b'{"kind": "echo"}', headers={"content-type": "Application/JSON; x=1"}
    )
    assert ok.status_code == 201
    assert (await http.post(f"/v1/jobs/{ok.json()['job_id']}/cancel")).status_code == 200


async def test_a_foreign_origin_is_refused_and_writes_nothing(
    core: RunningCore, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    for path in ROUTES:
        answer = await http.post(
            path, content=BODY, headers={"origin": "https://evil.example", **_json()}
        )
        assert answer.status_code == 403, (path, answer.text)
        assert "access-control-allow-origin" not in answer.headers
    refused = await http.get("/v1/jobs", headers={"origin": "https://evil.example"})
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    preflight = await http.options(
        "/v1/jobs",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 403
    assert await _jobs(db) == 0
    # The page core serves itself on loopback is not cross-site.
    own = core.http_url.replace("127.0.0.1", "localhost")
    async with httpx.AsyncClient(base_url=own) as same_site:
        answer = await same_site.post(
            "/v1/jobs", json={"kind": "echo"}, headers={"origin": own.rstrip("/")}
        )
        assert answer.status_code == 201, answer.text


async def test_an_allowed_origin_gets_a_preflight_and_cors_headers(
    database_url: str, db: asyncpg.Connection
) -> None:
    app = "https://app.example"
    async with (
        start_core(database_url, cors_allowed_origins="https://app.example") as core,
        httpx.AsyncClient(base_url=core.http_url) as http,
    ):
        preflight = await http.options(
            "/v1/jobs",
            headers={
                "origin": app,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == app
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"]
        answer = await http.post("/v1/jobs", json={"kind": "echo"}, headers={"origin": app})
        assert answer.status_code == 201
        assert answer.headers["access-control-allow-origin"] == app
        assert answer.headers["vary"] == "Origin"
        other = await http.post(
            "/v1/jobs", json={"kind": "echo"}, headers={"origin": app + ".evil"}
        )
        assert other.status_code == 403
    assert await _jobs(db) == 1


async def test_the_bridge_takes_only_json_bodies(core: RunningCore, db: asyncpg.Connection) -> None:
    async with start_bridge(core.grpc_addr) as bridge, httpx.AsyncClient() as http:
        answer = await http.post(
            f"{bridge.url}/submit",
            content=b'{"kind": "echo"}',
            headers={"content-type": "text/plain"},
        )
        assert answer.status_code == 415
        assert answer.json()["error"]["code"] == "unsupported_media_type"
    assert await _jobs(db) == 0


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}
