"""The drop-in APIs' model names pick a provider: ollama/, openai/, openrouter/ prefixes, fleet
models, cloud names, and what no provider serves."""

from __future__ import annotations

import pytest

from core.compat.shape import chat_request, resolve_model
from core.errors import UnknownModel
from core.routing.decide import route
from tests.routing.test_routing_decide import device, fleet

HI = [{"role": "user", "content": "hi"}]


def test_model_names_pick_providers() -> None:
    f = fleet(device("gpu1.", "qwen2.5:3b"))
    assert resolve_model("auto") == ("auto", None)
    assert resolve_model("ollama/qwen2.5:3b") == ("ollama", "qwen2.5:3b")
    assert resolve_model("openrouter/meta/llama-3-70b") == ("openrouter", "meta/llama-3-70b")
    assert resolve_model("openai/gpt-4o") == ("openai", "gpt-4o")

    def provider(model: str, fleet_: object = f) -> str:
        return route(chat_request(fleet_, model=model, messages=HI, source="t"), fleet_).provider

    assert provider("qwen2.5:3b") == "ollama"
    assert provider("anthropic/claude-3") == "openrouter"
    assert provider("gpt-4o") == "openai"
    assert provider("ft:gpt-4o-mini:acme::abc") == "openai"
    with pytest.raises(UnknownModel):
        provider("mistral:7b")  # an Ollama tag no device has: no cloud serves it either
    no_cloud = fleet(device("gpu1."), kinds=frozenset({"ollama.generate"}))
    with pytest.raises(UnknownModel):
        provider("gpt-4o", no_cloud)
    # No device known: the worker's own Ollama may have it.
    assert provider("mistral:7b", fleet(kinds=frozenset({"ollama.generate"}))) == "ollama"
