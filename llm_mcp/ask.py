"""`llm-mcp request`: a smart request routed by core, followed to its answer over SSE.

The answer's tokens are printed as the worker streams them; the routing decision and the
outcome go to stderr, so stdout is the answer alone (pipe it anywhere).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

import httpx

from mcp_bridge.answers import answer_text


def iter_sse(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of each server-sent event; comments (keep-alives) are skipped."""
    event, data = "message", ""
    for line in response.iter_lines():
        if not line:
            if data:
                yield event, json.loads(data)
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def request_body(
    prompt: str, *, model: str | None, provider: str, prefer_local: bool, force_cloud: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task": "chat",
        "provider": provider,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "source": "llm-mcp-cli",
        "constraints": {"prefer_local": prefer_local, "force_cloud": force_cloud},
    }
    if model:
        body["model"] = model
    return body


def follow(
    http: httpx.Client, job_id: str, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Prints the job's streamed tokens, then its answer if none streamed; 0 when done."""
    streamed = False
    with http.stream("GET", f"/v1/jobs/{job_id}/stream", timeout=None) as response:
        if response.status_code >= 400:
            response.read()
            print(f"llm-mcp: HTTP {response.status_code}: {response.text}", file=err)
            return 1
        for event, data in iter_sse(response):
            if event == "progress":
                delta = (data.get("data") or {}).get("delta") or ""
                if delta:
                    out.write(delta)
                    out.flush()
                    streamed = True
            elif event == "retry":
                job = data.get("job") or {}
                print(f"\nllm-mcp: attempt failed, retrying: {job.get('error')}", file=err)
            elif event in ("done", "error", "canceled"):
                job = data.get("job") or {}
                if event == "done":
                    if not streamed:
                        out.write(answer_text(job.get("result")) or json.dumps(job.get("result")))
                    out.write("\n")
                    out.flush()
                    return 0
                print(f"llm-mcp: job {job_id} {event}: {job.get('error')}", file=err)
                return 1
    print(f"llm-mcp: the stream of job {job_id} ended early", file=err)
    return 1


def ask(http: httpx.Client, body: dict[str, Any], *, err: TextIO = sys.stderr) -> int:
    """Routes `body` via POST /v1/llm/request and follows the job; returns the exit code."""
    answer = http.post("/v1/llm/request", json=body)
    if answer.status_code >= 400:
        try:
            error = answer.json()["error"]
            print(f"llm-mcp: {answer.status_code} {error['code']}: {error['message']}", file=err)
        except (ValueError, KeyError, TypeError):
            print(f"llm-mcp: HTTP {answer.status_code}: {answer.text}", file=err)
        return 1
    routed = answer.json()
    where = f" on {routed['device_id']}" if routed.get("device_id") else ""
    print(
        f"llm-mcp: job {routed['job_id']}: {routed['provider']} {routed.get('model') or ''}"
        f"{where} ({'; '.join(routed.get('reason') or [])})",
        file=err,
        flush=True,
    )
    return follow(http, routed["job_id"], err=err)
