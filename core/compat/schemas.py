"""Bodies of the OpenAI- and Ollama-compatible endpoints, validated and bounded.

Unknown fields are accepted and ignored (clients send many we do not use); those a cloud
provider understands are passed through (see core.compat.shape)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.routing.schemas import MAX_PROMPT_CHARS

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)]
MAX_MESSAGES = 500
MAX_INPUTS = 256


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


def message_text(content: Any) -> str:
    """OpenAI content: a string or a list of parts; the text parts joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        ]
        return "".join(str(t) for t in texts)
    raise ValueError("content must be a string or a list of parts")


class ChatMessage(_Loose):
    role: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    content: Any = None

    @field_validator("content")
    @classmethod
    def _text(cls, value: Any) -> str:
        text = message_text(value)
        if len(text) > MAX_PROMPT_CHARS:
            raise ValueError(f"content is longer than {MAX_PROMPT_CHARS} characters")
        return text


class StreamOptions(_Loose):
    include_usage: bool = False


class ChatCompletionRequest(_Loose):
    model: ModelName
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(None, ge=1, le=1_000_000)
    # llm-mcp extensions (extra_body in the openai client).
    priority: int = Field(0, ge=-1000, le=1000)
    prefer_local: bool = False
    fallback: bool = False


class EmbeddingRequest(_Loose):
    model: ModelName
    input: Text | list[Text] = Field(...)
    encoding_format: str | None = None
    priority: int = Field(0, ge=-1000, le=1000)

    @field_validator("input")
    @classmethod
    def _bounded(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_INPUTS:
            raise ValueError(f"input holds 1 to {MAX_INPUTS} texts")
        return value


class OllamaGenerate(_Loose):
    model: ModelName
    prompt: Text = ""
    system: Text | None = None
    stream: bool = True
    options: dict[str, Any] | None = None
    think: bool | str | None = None
    format: Any = None
    keep_alive: Any = None
    priority: int = Field(0, ge=-1000, le=1000)


class OllamaChat(_Loose):
    model: ModelName
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = True
    options: dict[str, Any] | None = None
    think: bool | str | None = None
    format: Any = None
    keep_alive: Any = None
    priority: int = Field(0, ge=-1000, le=1000)


class OllamaEmbed(_Loose):
    model: ModelName
    input: Text | list[Text]
    options: dict[str, Any] | None = None
    keep_alive: Any = None

    @field_validator("input")
    @classmethod
    def _bounded(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_INPUTS:
            raise ValueError(f"input holds 1 to {MAX_INPUTS} texts")
        return value


class OllamaEmbeddings(_Loose):
    model: ModelName
    prompt: Text
    options: dict[str, Any] | None = None
    keep_alive: Any = None
