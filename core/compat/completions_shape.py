"""OpenAI's legacy completions (POST /v1/completions): the body, the job payload (Ollama's
/api/generate on a device, a one-message chat on a cloud) and the text_completion answers.
Pure."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from core.compat.schemas import ModelName, StreamOptions, Text, _Loose
from core.compat.shape import Shape
from core.errors import InvalidInput
from core.routing.decide import Decision

MAX_PROMPTS = 16
Stop = Annotated[str, StringConstraints(max_length=1000)]
# Sampling fields both Ollama (as options) and the clouds (as they came) take.
_SAMPLING = ("top_p", "stop", "seed", "presence_penalty", "frequency_penalty")


class CompletionRequest(_Loose):
    model: ModelName
    prompt: Text | list[Any] = Field(...)
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    stop: Stop | list[Stop] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    suffix: Text | None = None
    echo: bool = False
    n: int = Field(1, ge=1, le=1)
    best_of: int | None = Field(None, ge=1, le=1)
    logprobs: None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    # llm-mcp extensions (extra_body in the openai client).
    priority: int = Field(0, ge=-1000, le=1000)
    prefer_local: bool = False

    @field_validator("prompt")
    @classmethod
    def _texts(cls, value: str | list[Any]) -> str | list[Any]:
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_PROMPTS:
                raise ValueError(f"prompt holds 1 to {MAX_PROMPTS} texts")
            if not all(isinstance(p, str) for p in value):
                raise ValueError(
                    "token arrays are not supported (tokenizers differ across the "
                    "fleet); send the prompt as text"
                )
            if any(len(p) > 200_000 for p in value):
                raise ValueError("a prompt is longer than 200000 characters")
        return value

    @property
    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)


def completion_shape(body: CompletionRequest, prompt: str, *, stream: bool) -> Shape:
    """Ollama's /api/generate body on a device (a real completion, no chat template is
    forced on the prompt); the routed chat payload plus the sampling fields on a cloud."""
    given = {k: getattr(body, k) for k in _SAMPLING if getattr(body, k) is not None}

    def shape(decision: Decision) -> dict[str, Any]:
        if decision.provider == "ollama":
            options = dict(given)
            if isinstance(options.get("stop"), str):
                options["stop"] = [options["stop"]]
            if body.temperature is not None:
                options["temperature"] = body.temperature
            if body.max_tokens is not None:
                options["num_predict"] = body.max_tokens
            payload: dict[str, Any] = {"model": decision.model, "prompt": prompt}
            if options:
                payload["options"] = options
            if body.suffix is not None:
                payload["suffix"] = body.suffix
        else:
            if body.suffix is not None:
                raise InvalidInput(f"suffix: {decision.provider} does not complete with a suffix")
            payload = {**decision.payload, **given}
        payload["stream"] = stream
        return payload

    return shape


def completion_id(job_id: str) -> str:
    return f"cmpl-{job_id.replace('-', '')}"


def choice(text: str, index: int = 0, finish_reason: str | None = None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}


def text_completion(
    first_job_id: str,
    model: str,
    created: int,
    choices: list[dict[str, Any]],
    usage: dict[str, Any] | None,
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": completion_id(first_job_id),
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        answer["usage"] = usage
    return answer


def added_usage(usages: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("prompt_tokens", "completion_tokens", "total_tokens")
    return {k: sum(int(u.get(k) or 0) for u in usages) for k in keys}
