"""The wire contract between core and its workers, written once: the job kinds, the payload keys
core adds for routing, the chat fields a cloud request passes through, and the fields of a
finished job's result and metrics.

Core, the worker, the bridge and the drop-in views import these names rather than spelling the
strings; this module imports nothing of ours, so every part can depend on it.
"""

from __future__ import annotations

from typing import Any

# -- job kinds -------------------------------------------------------------------------------

ECHO = "echo"
OLLAMA_GENERATE = "ollama.generate"
OLLAMA_EMBED = "ollama.embed"
OPENAI_CHAT = "openai.chat"
OPENROUTER_CHAT = "openrouter.chat"
BENCHMARK_OLLAMA_GENERATE = "benchmark.ollama.generate"
BENCHMARK_OLLAMA_EMBED = "benchmark.ollama.embed"

# The kinds llm-mcp's own worker runs (custom executors may claim any other kind).
BUILTIN_KINDS = frozenset(
    {
        ECHO,
        OLLAMA_GENERATE,
        OLLAMA_EMBED,
        OPENAI_CHAT,
        OPENROUTER_CHAT,
        BENCHMARK_OLLAMA_GENERATE,
        BENCHMARK_OLLAMA_EMBED,
    }
)
# Kinds that run on an Ollama device: bound to one at claim time, counted per device.
DEVICE_KINDS = frozenset(
    {OLLAMA_GENERATE, OLLAMA_EMBED, BENCHMARK_OLLAMA_GENERATE, BENCHMARK_OLLAMA_EMBED}
)


def kind_for(provider: str, task: str) -> str | None:
    """The kind that runs `task` (chat, generate, embed) on `provider`; None when it cannot
    (a cloud does not embed)."""
    if provider == "ollama":
        return OLLAMA_EMBED if task == "embed" else OLLAMA_GENERATE
    return None if task == "embed" else chat_kind(provider)


def chat_kind(provider: str) -> str:
    """openai -> openai.chat, openrouter -> openrouter.chat."""
    return f"{provider}.chat"


def benchmark_kind(task_type: str) -> str:
    """generate -> benchmark.ollama.generate, embed -> benchmark.ollama.embed."""
    return f"benchmark.ollama.{task_type}"


# -- payload keys ----------------------------------------------------------------------------

OLLAMA_ADDR = "ollama_addr"
OLLAMA_HOST = "ollama_host"
# The device's context limit in tokens; the worker caps options.num_ctx at it.
NUM_CTX_LIMIT = "num_ctx_limit"
# True: the worker streams the answer as progress events.
STREAM = "stream"

# What core puts into a device-bound job's payload when it binds the job to a device.
DEVICE_FIELDS = (OLLAMA_ADDR, OLLAMA_HOST, NUM_CTX_LIMIT)
# Payload keys that point a worker somewhere: core accepts them only when they name a known
# device (no requests to arbitrary hosts through a payload).
ADDRESS_KEYS = (OLLAMA_ADDR, OLLAMA_HOST, "base_url", "ollama_base_url")
# Our own fields of an Ollama payload; Ollama never sees them.
ROUTING_KEYS = (*DEVICE_FIELDS, STREAM)

# OpenAI chat-completion fields a cloud provider gets as the client sent them.
CLOUD_PASSTHROUGH = (
    "top_p",
    "stop",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "presence_penalty",
    "frequency_penalty",
    "max_completion_tokens",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "reasoning_effort",
    "user",
)
# Every field of an openai.chat / openrouter.chat payload the worker sends on.
CLOUD_CHAT_FIELDS = ("messages", "temperature", "max_tokens", *CLOUD_PASSTHROUGH)

# -- result ----------------------------------------------------------------------------------

# The provider's own answer, as it gave it (Ollama's /api/generate or /api/chat answer, a chat
# completion, {"embedding": [...]} or {"embeddings": [...]}).
DATA = "data"
# The answer text without the model's thinking.
RESPONSE = "response"
# The model's thinking (reasoning), or null.
THINKING = "thinking"
# The cloud chat kinds' answer text again, as their documented result has always had it.
TEXT = "text"


def text_result(
    data: Any, response: str, thinking: str | None, *, with_text: bool = False
) -> dict[str, Any]:
    """The result of a generating kind; `with_text` for openai.chat and openrouter.chat."""
    result: dict[str, Any] = {DATA: data}
    if with_text:
        result[TEXT] = response
    result[RESPONSE] = response
    result[THINKING] = thinking
    return result


def result_text(result: Any, field: str = RESPONSE) -> str:
    """`result[field]` when it is text, else ""."""
    value = result.get(field) if isinstance(result, dict) else None
    return value if isinstance(value, str) else ""


# -- progress ------------------------------------------------------------------------------

# A streamed piece of the answer: a progress event's data is {"type": "token", "delta": text,
# "thinking": text}, either text left out when empty; the pieces add up to the result's
# response and thinking.
PROGRESS_TYPE = "type"
TOKEN = "token"
DELTA = "delta"

# -- metrics ---------------------------------------------------------------------------------

LATENCY_MS = "latency_ms"
TOKENS_IN = "tokens_in"
TOKENS_OUT = "tokens_out"
TPS = "tps"
PROVIDER = "provider"
MODEL = "model"
DEVICE_ID = "device_id"
# True on a benchmark run's metrics: routing learns from it through ReportBenchmark only.
BENCHMARK = "benchmark"

# A benchmark run's figures: its result, and what ReportBenchmark carries.
BENCHMARK_FIGURES = (TOKENS_IN, TOKENS_OUT, LATENCY_MS, TPS)
