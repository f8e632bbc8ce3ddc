"""The core-worker wire contract (`proto/contract.py`) is what both sides use. Pure."""

from __future__ import annotations

import pytest

from core.compat import params
from core.compat.shape import openai_chat_shape
from core.routing.decide import Decision
from proto import contract
from worker.handlers.base import JobContext
from worker.handlers.ollama import Ollama
from worker.handlers.openai_compat import OpenAICompatible
from worker.handlers.registry import Providers
from worker.settings import WorkerSettings


def test_a_worker_with_every_key_runs_exactly_the_builtin_kinds() -> None:
    settings = WorkerSettings(openai_api_key="k", openrouter_api_key="k")
    assert set(Providers(settings).handlers()) == contract.BUILTIN_KINDS


def test_routing_counts_exactly_the_device_kinds_per_device() -> None:
    assert contract.DEVICE_KINDS < contract.BUILTIN_KINDS
    kinds = {contract.kind_for(p, t) for p in ("ollama",) for t in ("chat", "embed")}
    assert kinds == {contract.OLLAMA_GENERATE, contract.OLLAMA_EMBED}
    assert contract.kind_for("openai", "chat") == contract.OPENAI_CHAT
    assert contract.kind_for("openrouter", "generate") == contract.OPENROUTER_CHAT
    assert contract.kind_for("openai", "embed") is None
    assert contract.benchmark_kind("embed") == contract.BENCHMARK_OLLAMA_EMBED


def test_every_field_core_puts_into_a_cloud_payload_reaches_the_provider() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.1,
        "max_tokens": 5,
        **{name: 1 for name in contract.CLOUD_PASSTHROUGH},
    }
    decision = Decision(
        provider="openai", kind=contract.OPENAI_CHAT, model="gpt-4o-mini", payload={}
    )
    payload = openai_chat_shape(body, stream=False)(decision)
    sent = set(contract.CLOUD_CHAT_FIELDS) | {contract.STREAM, "model"}
    assert set(payload) <= sent
    assert set(contract.CLOUD_PASSTHROUGH) <= set(payload)
    translated = params.ollama_to_cloud({"options": {"temperature": 0.2}, "format": "json"})
    assert set(translated) <= set(contract.CLOUD_CHAT_FIELDS)


@pytest.mark.parametrize("provider", ["openai", "openrouter"])
def test_a_cloud_chat_result_repeats_its_text_as_documented(provider: str) -> None:
    cloud = OpenAICompatible(provider=provider, base_url="http://x", api_key="k", model="m")
    assert set(cloud.handlers()) == {contract.chat_kind(provider)}
    result = contract.text_result({"id": 1}, "hi", None, with_text=True)
    assert result == {"data": {"id": 1}, "text": "hi", "response": "hi", "thinking": None}
    assert contract.text_result({}, "hi", "hm") == {"data": {}, "response": "hi", "thinking": "hm"}


def test_the_worker_leaves_core_routing_fields_out_of_ollamas_body() -> None:
    ollama = Ollama(base_url="http://127.0.0.1:1", model="m", embed_model="e")
    job = JobContext(
        job_id="j",
        kind=contract.OLLAMA_GENERATE,
        payload={"model": "m", contract.OLLAMA_ADDR: "10.0.0.1", contract.NUM_CTX_LIMIT: 4},
        attempt=1,
        worker_id="w",
    )
    assert ollama._url(job, "/api/generate") == "http://10.0.0.1:11434/api/generate"
    assert set(contract.DEVICE_FIELDS) <= set(contract.ADDRESS_KEYS) | {contract.NUM_CTX_LIMIT}
    assert set(contract.DEVICE_FIELDS) < set(contract.ROUTING_KEYS)
