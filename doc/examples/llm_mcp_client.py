"""A small client for llm-mcp core, to copy into a service that integrates with it.

Needs only httpx. `submit_and_wait` enqueues a job (or a routed request), follows it over
SSE, falls back to polling when the stream is unavailable, and returns the finished job.
`answer_text` / `embedding` read the result whatever provider ran it.
See doc/integration_channel_mcp.md; tests/deploy/test_integration_doc.py runs these examples.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

TERMINAL = {"done", "error", "canceled"}


class LlmMcpError(Exception):
    """core refused the request: `status` (HTTP), `code` and `message` from its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class JobFailed(Exception):
    """The job ended as error or canceled; `job` is its final state (job["error"] says why)."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(f"job {job['id']} ended {job['status']}: {job.get('error')}")
        self.job = job


class JobTimeout(Exception):
    """The job did not finish in time (it was canceled when cancel_on_timeout)."""

    def __init__(self, job_id: str, seconds: float) -> None:
        super().__init__(f"job {job_id} did not finish within {seconds:g}s")
        self.job_id = job_id


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise LlmMcpError(response.status_code, code, message)
    return response.json()


def _sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of each server-sent event; keep-alive comments are skipped."""
    event, data = "message", []
    for line in response.iter_lines():
        if not line:
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def _follow_sse(client: httpx.Client, job_id: str, deadline: float) -> dict[str, Any] | None:
    """The final job from the SSE stream, or None when the stream broke off."""
    timeout = httpx.Timeout(10.0, read=max(0.1, deadline - time.monotonic()))
    try:
        with client.stream("GET", f"/v1/jobs/{job_id}/stream", timeout=timeout) as response:
            if response.status_code != 200:
                response.read()
                _check(response)
                return None
            for event, data in _sse_events(response):
                if event == "job" and data["status"] in TERMINAL:
                    return data  # it had finished before we connected
                if event in TERMINAL and "job" in data:
                    return data["job"]
    except (httpx.TransportError, json.JSONDecodeError):
        return None  # a proxy cut the stream, or core restarted: poll instead
    return None


def _poll(client: httpx.Client, job_id: str, deadline: float) -> dict[str, Any] | None:
    delay = 0.1
    while True:
        job = _check(client.get(f"/v1/jobs/{job_id}"))
        if job["status"] in TERMINAL:
            return job
        if time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def submit_and_wait(
    client: httpx.Client,
    *,
    kind: str | None = None,
    payload: dict[str, Any] | None = None,
    request: dict[str, Any] | None = None,
    priority: int = 0,
    source: str | None = None,
    idempotency_key: str | None = None,
    timeout: float = 120.0,
    use_sse: bool = True,
    cancel_on_timeout: bool = True,
) -> dict[str, Any]:
    """Enqueues a job and returns it once done.

    Either `kind` + `payload` (POST /v1/jobs) or `request` (a POST /v1/llm/request body:
    core picks provider, model and device). `client` has core's base_url and, when core has
    API_TOKEN, an Authorization header. Raises LlmMcpError when core refuses the request,
    JobFailed when the job ends in error or canceled, JobTimeout after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    if request is not None:
        body = {"priority": priority, **request}
        if source and "source" not in body:
            body["source"] = source
        job_id = _check(client.post("/v1/llm/request", json=body))["job_id"]
    elif kind is not None:
        body = {"kind": kind, "payload": payload or {}, "priority": priority}
        if source:
            body["source"] = source
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        job_id = _check(client.post("/v1/jobs", json=body, headers=headers))["job_id"]
    else:
        raise ValueError("give kind (+ payload) or request")
    job = _follow_sse(client, job_id, deadline) if use_sse else None
    if job is None and time.monotonic() < deadline:
        job = _poll(client, job_id, deadline)
    if job is None:
        if cancel_on_timeout:
            client.post(f"/v1/jobs/{job_id}/cancel")
        raise JobTimeout(job_id, timeout)
    if job["status"] != "done":
        raise JobFailed(job)
    return job


def answer_text(job: dict[str, Any]) -> str | None:
    """The answer of a finished chat/generate job, whichever provider ran it."""
    result = job.get("result") or {}
    # ollama.generate, openai.chat, openrouter.chat: the text without the model's thinking.
    if isinstance(result.get("response"), str):
        return result["response"]
    return None


def embedding(job: dict[str, Any]) -> list[float]:
    """The vector of a finished ollama.embed job (Ollama's /api/embeddings answer)."""
    return job["result"]["data"]["embedding"]
