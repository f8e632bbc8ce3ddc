"""Ollama's response shapes (/api/generate, /api/chat, /api/embed, /api/tags). Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.compat import openai_views, tool_calls
from core.errors import UnknownModel
from core.queue.models import Job
from proto.contract import DATA, LATENCY_MS, THINKING, TOKENS_IN, TOKENS_OUT, result_text

OLLAMA_VERSION = "0.9.0"
_STATS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def error_for(exc: Exception) -> tuple[int, dict[str, str]]:
    """(status, Ollama's {"error": "..."}) for one of our exceptions; an unknown model is
    Ollama's own 404 "model 'x' not found"."""
    if isinstance(exc, UnknownModel):
        return 404, {"error": f"model '{exc.model}' not found" if exc.model else exc.message}
    status, body = openai_views.error_for(exc)
    return status, {"error": body["error"]["message"]}


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _result(job: Job) -> dict[str, Any]:
    return job.result if isinstance(job.result, dict) else {}


def stats(job: Job) -> dict[str, Any]:
    """Ollama's timing fields: the device's own when Ollama ran it, else from our metrics."""
    data = _result(job).get(DATA)
    if isinstance(data, dict) and "eval_count" in data:
        return {k: data[k] for k in _STATS if k in data}
    metrics = job.metrics if isinstance(job.metrics, dict) else {}
    latency_ns = int(float(metrics.get(LATENCY_MS) or 0) * 1e6)
    return {
        "total_duration": latency_ns,
        "load_duration": 0,
        "prompt_eval_count": int(metrics.get(TOKENS_IN) or 0),
        "prompt_eval_duration": 0,
        "eval_count": int(metrics.get(TOKENS_OUT) or 0),
        "eval_duration": latency_ns,
    }


def generate_line(model: str, text: str = "", thinking: str = "") -> dict[str, Any]:
    line: dict[str, Any] = {"model": model, "created_at": now(), "response": text, "done": False}
    if thinking:
        line["thinking"] = thinking
    return line


def _data(job: Job) -> dict[str, Any]:
    data = _result(job).get(DATA)
    return data if isinstance(data, dict) else {}


def done_reason(job: Job) -> str:
    """Ollama's own done_reason; a cloud's finish_reason "length" as Ollama says it."""
    data = _data(job)
    if isinstance(data.get("done_reason"), str):
        return data["done_reason"]
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        if choices[0].get("finish_reason") == "length":
            return "length"
    return "stop"


def generate_final(job: Job, model: str, *, whole: bool) -> dict[str, Any]:
    result = _result(job)
    line: dict[str, Any] = {
        "model": model,
        "created_at": now(),
        "response": result_text(result) if whole else "",
        "done": True,
        "done_reason": done_reason(job),
        **stats(job),
    }
    if whole and result.get(THINKING):
        line["thinking"] = result[THINKING]
    if isinstance(_data(job).get("context"), list):
        line["context"] = _data(job)["context"]
    return line


def tool_calls_line(job: Job, model: str) -> dict[str, Any] | None:
    """The streamed line that carries the answer's tool calls (as Ollama sends them, before
    the done line); None when there are none."""
    calls = tool_calls.of_job(job)
    if not calls:
        return None
    message = {"role": "assistant", "content": "", "tool_calls": [c.ollama() for c in calls]}
    return {"model": model, "created_at": now(), "message": message, "done": False}


def chat_line(model: str, text: str = "", thinking: str = "") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if thinking:
        message["thinking"] = thinking
    return {"model": model, "created_at": now(), "message": message, "done": False}


def chat_final(job: Job, model: str, *, whole: bool) -> dict[str, Any]:
    result = _result(job)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": result_text(result) if whole else "",
    }
    if whole and result.get(THINKING):
        message["thinking"] = result[THINKING]
    if whole and (calls := tool_calls.of_job(job)):
        message["tool_calls"] = [c.ollama() for c in calls]
    return {
        "model": model,
        "created_at": now(),
        "message": message,
        "done": True,
        "done_reason": done_reason(job),
        **stats(job),
    }


def tags(catalog: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of the fleet's models, as Ollama lists its own."""
    return {
        "models": [
            {
                "name": m["name"],
                "model": m["name"],
                "modified_at": now(),
                "size": m.get("size_bytes") or 0,
                "digest": "",
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": m.get("family") or "",
                    "families": [m["family"]] if m.get("family") else None,
                    "parameter_size": m.get("parameter_size") or "",
                    "quantization_level": m.get("quantization") or "",
                },
            }
            for m in catalog
        ]
    }
