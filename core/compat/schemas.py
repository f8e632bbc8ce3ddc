"""Bodies of the OpenAI- and Ollama-compatible endpoints, validated and bounded.

Extra fields are accepted: those of each API's reference are carried to the chosen provider or
refused there by name (core.compat.params); others are ignored."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.routing.schemas import MAX_PROMPT_CHARS

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(max_length=MAX_PROMPT_CHARS)]
MAX_MESSAGES = 500
MAX_INPUTS = 256
MAX_PARTS = 100
MAX_TOKENS_PER_INPUT = 100_000


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


def _bounded_content(content: Any) -> Any:
    """OpenAI content: a string or a list of parts (text, image_url, ...), kept as sent."""
    if content is None or isinstance(content, str):
        text = content or ""
    elif isinstance(content, list) and all(isinstance(p, dict) for p in content):
        if len(content) > MAX_PARTS:
            raise ValueError(f"content holds at most {MAX_PARTS} parts")
        text = "".join(str(p.get("text") or "") for p in content)
    else:
        raise ValueError("content must be a string or a list of parts")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"content is longer than {MAX_PROMPT_CHARS} characters")
    return content


class ChatMessage(_Loose):
    """An OpenAI message; `tool_calls`, `tool_call_id`, `name` are kept (extra fields)."""

    role: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    content: Any = None

    @field_validator("content")
    @classmethod
    def _content(cls, value: Any) -> Any:
        return _bounded_content(value)


class OllamaMessage(_Loose):
    """An Ollama message; `images`, `tool_calls`, `tool_name`, `thinking` are kept."""

    role: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    content: Text = ""
    images: list[str] | None = Field(None, max_length=MAX_PARTS)


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


Tokens = Annotated[list[int], Field(min_length=1, max_length=MAX_TOKENS_PER_INPUT)]


class EmbeddingRequest(_Loose):
    """`input`: a text, texts, a token array or token arrays (as LangChain sends them)."""

    model: ModelName
    input: Text | list[Text] | Tokens | list[Tokens] = Field(...)
    encoding_format: str | None = None
    dimensions: int | None = Field(None, ge=1, le=65536)
    priority: int = Field(0, ge=-1000, le=1000)

    @field_validator("input")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_INPUTS:
            raise ValueError(f"input holds 1 to {MAX_INPUTS} texts")
        return value


class OllamaGenerate(_Loose):
    model: ModelName
    prompt: Text = ""
    system: Text | None = None
    images: list[str] | None = Field(None, max_length=MAX_PARTS)
    context: list[int] | None = Field(None, max_length=1_000_000)
    stream: bool = True
    options: dict[str, Any] | None = None
    think: bool | str | None = None
    format: Any = None
    keep_alive: Any = None
    priority: int = Field(0, ge=-1000, le=1000)


class OllamaChat(_Loose):
    model: ModelName
    messages: list[OllamaMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
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
    truncate: bool | None = None
    dimensions: int | None = Field(None, ge=1, le=65536)

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


class OllamaShowRequest(_Loose):
    model: ModelName | None = None
    name: ModelName | None = None  # older clients
    verbose: bool | None = None

    @property
    def wanted(self) -> str:
        return self.model or self.name or ""


class OllamaPull(_Loose):
    """`device`: the device to pull onto (our extension); else routing picks one."""

    model: ModelName | None = None
    name: ModelName | None = None  # older clients
    stream: bool = True
    insecure: bool | None = None
    device: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None

    @property
    def wanted(self) -> str:
        return self.model or self.name or ""
