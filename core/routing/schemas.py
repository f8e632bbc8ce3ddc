"""Validated inputs of routing and benchmarks (the HTTP bodies), shared by HTTP and gRPC."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from core.bounds import StrictFloat, StrictInt, StrictModel
from core.queue.schemas import MAX_PAYLOAD_BYTES, ShortText, _json_size

Task = Literal["chat", "generate", "embed"]
Provider = Literal["auto", "ollama", "openai", "openrouter"]
PROVIDERS = ("ollama", "openai", "openrouter")
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
MAX_PROMPT_CHARS = 200_000


_Strict = StrictModel


class Message(_Strict):
    role: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    content: Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)] = ""


class Constraints(_Strict):
    prefer_local: bool = False
    force_cloud: bool = False
    max_latency_ms: StrictFloat | None = Field(None, gt=0, le=3_600_000)
    # An Ollama job whose devices fail may run on the cloud instead.
    fallback: bool = False


class LlmRequest(_Strict):
    task: Task = "chat"
    provider: Provider = "auto"
    model: ModelName | None = None
    prompt: Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)] | None = None
    messages: list[Message] | None = Field(None, max_length=500)
    temperature: StrictFloat | None = Field(None, ge=0, le=2)
    max_tokens: StrictInt | None = Field(None, ge=1, le=1_000_000)
    priority: StrictInt = Field(0, ge=-1000, le=1000)
    source: ShortText | None = None
    constraints: Constraints = Field(default_factory=Constraints)
    payload: dict[str, Any] | None = None
    # The worker streams the answer's tokens as progress events (chat and generate).
    stream: bool = False

    @field_validator("payload")
    @classmethod
    def _payload_size(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and _json_size(value) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is larger than {MAX_PAYLOAD_BYTES} bytes")
        return value

    def has_input(self) -> bool:
        return bool(self.payload) or self.prompt is not None or bool(self.messages)


class BenchmarkRun(_Strict):
    provider: Literal["ollama"] = "ollama"
    model: ModelName
    task_type: Literal["generate", "embed"] = "generate"
    prompt: Annotated[str, StringConstraints(max_length=20_000)] = "test"
    runs: StrictInt = Field(1, ge=1, le=50)
    device_id: ShortText
    priority: StrictInt = Field(0, ge=-1000, le=1000)


class BenchmarkReport(_Strict):
    """A worker's benchmark figures (gRPC ReportBenchmark); bounded like every other input."""

    job_id: uuid.UUID | None = None
    device_id: ShortText | None = None
    provider: ShortText = "ollama"
    model: Annotated[str, StringConstraints(max_length=200)] = ""
    task_type: Annotated[str, StringConstraints(max_length=50)] = ""
    tokens_in: int = Field(0, ge=0, le=1_000_000_000)
    tokens_out: int = Field(0, ge=0, le=1_000_000_000)
    latency_ms: float = Field(0.0, ge=0, le=1e9, allow_inf_nan=False)
    tps: float = Field(0.0, ge=0, le=1e9, allow_inf_nan=False)
    ok: bool = True
    error: Annotated[str, StringConstraints(max_length=10_000)] | None = None
