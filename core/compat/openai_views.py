"""OpenAI's response shapes (chat.completion, chunks, embeddings, models, errors). Pure."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from pydantic import ValidationError

from core import errors
from core.compat import tool_calls
from core.errors import InvalidInput, JobFailedUpstream, UnknownModel
from core.queue.models import Job
from proto.contract import DATA, THINKING, TOKENS_IN, TOKENS_OUT, result_text


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
    if isinstance(exc, UnknownModel):
        message = exc.message
        if exc.model:
            message = f"The model `{exc.model}` does not exist or you do not have access to it"
            message += f" ({exc.why})." if exc.why else "."
        return 404, error_body(message, "invalid_request_error", exc.code, "model")
    if isinstance(exc, errors.CoreError):
        # OpenAI's and Ollama's clients know 400 for a bad request, never 422.
        status = 400 if exc.http_status == 422 else exc.http_status
        return status, error_body(exc.message, exc.api_type, exc.code)
    return 500, error_body("internal error", "server_error", "internal")


def completion_id(job_id: str) -> str:
    return f"chatcmpl-{job_id.replace('-', '')}"


def _usage(job: Job) -> dict[str, int]:
    metrics = job.metrics if isinstance(job.metrics, dict) else {}
    tokens_in = metrics.get(TOKENS_IN) if isinstance(metrics.get(TOKENS_IN), int) else 0
    tokens_out = metrics.get(TOKENS_OUT) if isinstance(metrics.get(TOKENS_OUT), int) else 0
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }


def _result(job: Job) -> dict[str, Any]:
    return job.result if isinstance(job.result, dict) else {}


def finish_reason(job: Job) -> str:
    """The cloud's own finish_reason; "tool_calls" when the answer calls tools; else "stop"
    (or "length" when Ollama stopped at num_predict)."""
    cloud = _cloud_choice(_result(job))
    if isinstance(cloud.get("finish_reason"), str):
        return cloud["finish_reason"]
    if tool_calls.of_job(job):
        return "tool_calls"
    data = _result(job).get(DATA)
    if isinstance(data, dict) and data.get("done_reason") == "length":
        return "length"
    return "stop"


def chat_completion(job: Job, model: str, created: int) -> dict[str, Any]:
    result = _result(job)
    message: dict[str, Any] = {"role": "assistant", "content": result_text(result)}
    if result.get(THINKING):
        message["reasoning_content"] = result[THINKING]
    calls = tool_calls.of_job(job)
    if calls:
        message["tool_calls"] = [c.openai() for c in calls]
        message["content"] = message["content"] or None
    return {
        "id": completion_id(str(job.id)),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason(job), "logprobs": None}
        ],
        "usage": _usage(job),
        "system_fingerprint": None,
    }


def _cloud_choice(result: dict[str, Any]) -> dict[str, Any]:
    """The first choice of a cloud provider's own answer (result.data), if it is one."""
    data = result.get(DATA)
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


def tool_call_deltas(job: Job) -> list[dict[str, Any]]:
    """The answer's tool calls as one streamed delta each (index, id, name, whole arguments)."""
    return [
        {"tool_calls": [{"index": i, **call.openai()}]}
        for i, call in enumerate(tool_calls.of_job(job))
    ]


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


def embedding_texts(value: Any) -> str | list[str]:
    """The texts of an embeddings input; token arrays are refused by name: Ollama's embedding
    models read text, and core has no tokenizer to turn OpenAI's token ids back into it."""
    if isinstance(value, list) and value and not isinstance(value[0], str):
        raise InvalidInput(
            "input: token arrays cannot be embedded by the fleet's Ollama models; send text "
            "(LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False))"
        )
    return value


def with_dimensions(vectors: list[list[float]], dimensions: int | None) -> list[list[float]]:
    """Vectors cut to `dimensions` and scaled back to unit length (what OpenAI's v3 models
    do), for an Ollama that ignored the field; shorter vectors are a 400 naming it."""
    if dimensions is None:
        return vectors
    out = []
    for vector in vectors:
        if len(vector) < dimensions:
            raise InvalidInput(f"dimensions: the model's vectors have only {len(vector)}")
        cut = vector[:dimensions]
        norm = math.sqrt(sum(x * x for x in cut)) or 1.0
        out.append([x / norm for x in cut])
    return out


def vectors_of(job: Job) -> list[list[float]]:
    data = _result(job).get(DATA) or {}
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
