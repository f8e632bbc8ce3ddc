"""Request parameters carried from one API's names to a provider's, or refused. Pure.

Nothing is dropped silently: a parameter the chosen provider has no equivalent for is an
InvalidInput (400) naming the field. Resource hints with no effect on the answer
(`keep_alive`, `options.num_ctx` for a cloud; `user`, `metadata` for Ollama) are the only
fields let go.
"""

from __future__ import annotations

from typing import Any

from core.errors import InvalidInput

# OpenAI request fields -> Ollama options of the same meaning.
_OLLAMA_OPTION_NAMES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
# OpenAI fields no Ollama model can honour.
_NOT_ON_OLLAMA = ("logprobs", "top_logprobs", "logit_bias", "audio", "prediction")
# Ollama options a cloud's chat completion takes, by its name there.
_CLOUD_OPTION_NAMES = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
    "num_predict": "max_tokens",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_CLOUD_IGNORED_OPTIONS = ("num_ctx", "num_thread", "num_gpu", "use_mmap", "num_batch")
# Ollama request fields that have no meaning for a cloud chat completion.
_NOT_ON_CLOUD = ("raw", "template", "suffix", "context", "images")


def check_n(n: Any) -> None:
    if n not in (None, 1):
        raise InvalidInput("n: only one choice per request (n=1) is supported")


def _format(response_format: Any) -> Any:
    """OpenAI's response_format as Ollama's `format`: json_object -> "json", a json_schema ->
    the schema; None for plain text."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise InvalidInput("response_format.json_schema.schema: a JSON schema is needed")
        return schema
    raise InvalidInput(f"response_format.type: {kind!r} is not json_object or json_schema")


def openai_to_ollama(body: dict[str, Any], max_tokens: int | None) -> dict[str, Any]:
    """The Ollama /api/chat fields (options, format, think, tools) for an OpenAI request."""
    for name in _NOT_ON_OLLAMA:
        if body.get(name) not in (None, False):
            raise InvalidInput(f"{name}: not available from Ollama models")
    check_n(body.get("n"))
    options = {
        ollama: body[name]
        for name, ollama in _OLLAMA_OPTION_NAMES.items()
        if body.get(name) is not None
    }
    stop = body.get("stop")
    if stop is not None:
        options["stop"] = [stop] if isinstance(stop, str) else list(stop)
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    fields: dict[str, Any] = {}
    if options:
        fields["options"] = options
    if (fmt := _format(body.get("response_format"))) is not None:
        fields["format"] = fmt
    effort = body.get("reasoning_effort")
    if effort is not None:
        fields["think"] = False if effort in ("none", "minimal") else effort
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools and choice != "none":
        if choice not in (None, "auto"):
            raise InvalidInput(
                "tool_choice: Ollama models choose for themselves; only auto or none is possible"
            )
        if body.get("parallel_tool_calls") is False:
            raise InvalidInput("parallel_tool_calls: Ollama models cannot be held to one call")
        fields["tools"] = tools
    return fields


def ollama_to_cloud(body: dict[str, Any]) -> dict[str, Any]:
    """Chat-completion fields for an Ollama API request that a cloud runs."""
    for name in _NOT_ON_CLOUD:
        if body.get(name):
            raise InvalidInput(f"{name}: an Ollama-only field; a cloud model cannot take it")
    if body.get("think"):
        raise InvalidInput("think: only Ollama models think on request")
    fields: dict[str, Any] = {}
    for name, value in (body.get("options") or {}).items():
        if name in _CLOUD_IGNORED_OPTIONS:
            continue
        if name not in _CLOUD_OPTION_NAMES:
            raise InvalidInput(f"options.{name}: a cloud model has no such parameter")
        fields[_CLOUD_OPTION_NAMES[name]] = value
    fmt = body.get("format")
    if fmt == "json":
        fields["response_format"] = {"type": "json_object"}
    elif isinstance(fmt, dict):
        fields["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": fmt},
        }
    elif fmt not in (None, ""):
        raise InvalidInput('format: "json" or a JSON schema')
    if body.get("tools"):
        fields["tools"] = body["tools"]
    return fields
