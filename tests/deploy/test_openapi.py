"""The OpenAPI schema core serves (/openapi.json, /docs) describes every endpoint: a summary,
its request body, its success body where it has one, and the errors it can answer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from core.http.openapi import ErrorResponse

ECHO = {"kind": "echo", "payload": {"a": 1}}
ERROR_REF = "#/components/schemas/ErrorResponse"
# No token, no input: Ollama clients probe / and /api/version before anything else.
OPEN = {"/health", "/api/version", "/"}
# The drop-in APIs answer errors in their provider's own format, which its clients parse.
PROVIDER_ERROR_REFS = {
    "/v1/chat/completions": "#/components/schemas/OpenAIErrorResponse",
    "/v1/embeddings": "#/components/schemas/OpenAIErrorResponse",
    "/v1/models/": "#/components/schemas/OpenAIErrorResponse",
    "/v1/completions": "#/components/schemas/OpenAIErrorResponse",
    "/v1/responses": "#/components/schemas/OpenAIErrorResponse",
    "/v1/messages": "#/components/schemas/AnthropicErrorResponse",
    "/api/": "#/components/schemas/OllamaErrorResponse",
}


def error_ref(path: str) -> str:
    return next((r for p, r in PROVIDER_ERROR_REFS.items() if path.startswith(p)), ERROR_REF)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]


def test_every_operation_has_a_summary_of_its_own(openapi_schema: dict[str, Any]) -> None:
    schema = openapi_schema
    ops = operations(schema)
    assert len(ops) >= 20
    # Without summary= FastAPI titles the function name ("List Devices"); ours are sentences.
    missing = [f"{m} {p}" for m, p, op in ops if op["summary"] == op["summary"].title()]
    assert not missing, f"operations without a summary: {missing}"


def test_every_operation_documents_its_errors(openapi_schema: dict[str, Any]) -> None:
    schema = openapi_schema
    problems = []
    for method, path, op in operations(schema):
        responses = op["responses"]
        expected = set()
        if path not in OPEN:
            expected.add("401")
        if "requestBody" in op:
            expected |= {"400", "413", "422"}
        if op.get("parameters"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if missing := expected - set(responses):
            problems.append(f"{method} {path}: no {sorted(missing)}")
        for status, answer in responses.items():
            if status.startswith("4"):
                ref = answer["content"]["application/json"]["schema"].get("$ref")
                if ref != error_ref(path):
                    problems.append(
                        f"{method} {path} {status}: schema {ref}, not {error_ref(path)}"
                    )
        if not any(s.startswith("4") for s in responses) and path not in OPEN:
            problems.append(f"{method} {path}: no 4xx documented")
    assert not problems, "\n".join(problems)


def test_bodies_are_described(openapi_schema: dict[str, Any]) -> None:
    schema = openapi_schema
    paths = schema["paths"]

    def body_ref(path: str) -> str:
        content = paths[path]["post"]["requestBody"]["content"]["application/json"]
        return content["schema"]["$ref"].rsplit("/", 1)[-1]

    assert body_ref("/v1/jobs") == "JobCreate"
    assert body_ref("/v1/llm/request") == "LlmRequest"
    created = paths["/v1/jobs"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/JobSubmitted")
    routed = paths["/v1/llm/request"]["post"]["responses"]["201"]["content"]["application/json"]
    assert routed["schema"]["$ref"].endswith("/LlmRouted")
    job = schema["components"]["schemas"]["JobView"]["properties"]
    assert {"status", "result", "metrics", "error"} <= set(job)
    stream = paths["/v1/jobs/{job_id}/stream"]["get"]["responses"]["200"]
    assert "event-stream" in stream["description"]


async def test_documented_errors_match_real_ones(http: httpx.AsyncClient) -> None:
    missing = await http.get(f"/v1/jobs/{uuid.uuid4()}")
    assert missing.status_code == 404
    ErrorResponse.model_validate(missing.json())
    invalid = await http.post("/v1/jobs", json={"kind": "echo", "priority": 10**9})
    assert invalid.status_code == 422
    assert ErrorResponse.model_validate(invalid.json()).error.code == "validation_failed"
    docs = await http.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_every_operation_names_its_success_body(openapi_schema: dict[str, Any]) -> None:
    schema = openapi_schema
    unnamed = []
    for method, path, op in operations(schema):
        if path.endswith("/stream") or path == "/":
            continue  # text/event-stream or Ollama's plain-text probe, described in words
        success = next(a for s, a in op["responses"].items() if s.startswith("2"))
        ref = success.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if not ref:
            unnamed.append(f"{method} {path}")
    assert not unnamed, f"success bodies without a schema: {unnamed}"


@pytest.mark.slow
async def test_documented_bodies_match_real_answers(http: httpx.AsyncClient) -> None:
    from core.http import openapi as o

    submitted = o.JobSubmitted.model_validate((await http.post("/v1/jobs", json=ECHO)).json())
    o.JobView.model_validate((await http.get(f"/v1/jobs/{submitted.job_id}")).json())
    o.JobPage.model_validate((await http.get("/v1/jobs")).json())
    o.WorkerRegistered.model_validate(
        (await http.post("/v1/workers/register", json={"worker": {"id": "w1"}})).json()
    )
    claim = {"worker_id": "w1", "kinds": ["echo"], "lease_seconds": 30}
    claimed = o.Claimed.model_validate((await http.post("/v1/workers/claim", json=claim)).json())
    assert claimed.job is not None and claimed.job.id == submitted.job_id
    lease = {
        "worker_id": "w1",
        "job_id": submitted.job_id,
        "lease_token": claimed.job.lease_token,
    }
    o.HeartbeatAnswer.model_validate((await http.post("/v1/workers/heartbeat", json=lease)).json())
    o.Completed.model_validate(
        (await http.post("/v1/workers/complete", json={**lease, "result": {}})).json()
    )
    for path, model in [
        ("/health", o.Health),
        ("/v1/dashboard", o.Dashboard),
        ("/v1/devices", o.DeviceList),
        ("/v1/models", o.ModelList),
        ("/v1/benchmarks", o.BenchmarkList),
        ("/v1/discovery/last", o.DiscoveryRun),
    ]:
        model.model_validate((await http.get(path)).json())
