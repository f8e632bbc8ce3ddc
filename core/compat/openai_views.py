"""OpenAI's response shapes (chat.completion, chunks, embeddings, models, errors). Pure."""

from __future__ import annotations

import base64
import struct
from typing import Any

from pydantic import ValidationError

from core import errors
from core.errors import JobFailedUpstream
from core.queue.models import Job


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_for(exc: Exception) -> tuple[int, dict[str, Any]]:
    """(status, OpenAI error body) for one of our exceptions or a validation error."""
    if isinstance(exc, ValidationError):
        problems = exc.errors()[:10]
        first = problems[0] if problems else {}
        param = ".".join(str(x) for x in first.get("loc", ())) or None
        message = "; ".join(
            f"{'.'.join(str(x) for x in p.get('loc', ())) or 'body'}: {p.get('msg')}"
            for p in problems
        )
        return 400, error_body(
            message, "invalid_request_error", errors.ValidationFailed.code, param
        )
    if isinstance(exc, errors.CoreError):
        # OpenAI's and Ollama's clients know 400 for a bad request, never 422.
        status = 400 if exc.http_status == 422 else exc.http_status
        return status, error_body(exc.message, exc.api_type, exc.code)
    return 500, error_body("internal error", "server_error", "internal")


def completion_id(job_id: str) -> str:
    return f"chatcmpl-{job_id.replace('-', '')}"


def _usage(job: Job) -> dict[str, int]:
    metrics = job.metrics if isinstance(job.metrics, dict) else {}
    tokens_in = metrics.get("tokens_in") if isinstance(metrics.get("tokens_in"), int) else 0
    tokens_out = metrics.get("tokens_out") if isinstance(metrics.get("tokens_out"), int) else 0
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }


def _result(job: Job) -> dict[str, Any]:
    return job.result if isinstance(job.result, dict) else {}


def chat_completion(job: Job, model: str, created: int) -> dict[str, Any]:
    result = _result(job)
    message: dict[str, Any] = {"role": "assistant", "content": result.get("response") or ""}
    if result.get("thinking"):
        message["reasoning_content"] = result["thinking"]
    finish_reason = "stop"
    cloud = _cloud_choice(result)
    if cloud.get("message", {}).get("tool_calls"):
        message["tool_calls"] = cloud["message"]["tool_calls"]
        message["content"] = message["content"] or None
    if isinstance(cloud.get("finish_reason"), str):
        finish_reason = cloud["finish_reason"]
    return {
        "id": completion_id(str(job.id)),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": _usage(job),
        "system_fingerprint": None,
    }


def _cloud_choice(result: dict[str, Any]) -> dict[str, Any]:
    """The first choice of a cloud provider's own answer (result.data), if it is one."""
    data = result.get("data")
    choices = data.get("choices") if isinstance(data, dict) else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        choice = choices[0]
        if not isinstance(choice.get("message"), dict):
            return {**choice, "message": {}}
        return choice
    return {}


def chunk(
    job_id: str,
    model: str,
    created: int,
    delta: dict[str, Any],
    finish_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "id": completion_id(job_id),
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }


def usage_chunk(job: Job, model: str, created: int) -> dict[str, Any]:
    return {
        "id": completion_id(str(job.id)),
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": _usage(job),
    }


def _base64(vector: list[float]) -> str:
    """OpenAI's encoding_format=base64: little-endian float32s."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings(
    vectors: list[list[float]], model: str, job: Job, *, encoding: str = "float"
) -> dict[str, Any]:
    usage = _usage(job)
    encode = _base64 if encoding == "base64" else (lambda v: v)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encode(v)}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["prompt_tokens"]},
    }


def vectors_of(job: Job) -> list[list[float]]:
    data = _result(job).get("data") or {}
    if isinstance(data.get("embeddings"), list):
        return data["embeddings"]
    if isinstance(data.get("embedding"), list):
        return [data["embedding"]]
    raise JobFailedUpstream(f"job {job.id} finished without an embedding")


def model_entries(catalog: list[dict[str, Any]], clouds: list[str]) -> list[dict[str, Any]]:
    """OpenAI's model objects: `auto`, the fleet's models, and each live cloud's default."""
    ids = ["auto", *(m["name"] for m in catalog), *clouds]
    owners = {m["name"]: "ollama" for m in catalog}
    return [
        {
            "id": i,
            "object": "model",
            "created": 0,
            "owned_by": owners.get(i, i.split("/", 1)[0] if "/" in i else "llm-mcp"),
        }
        for i in ids
    ]
