"""Pure pieces of the drop-in APIs: model names to providers, breakers in routing decisions, breaker
states and capacities, OpenAI error shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.compat.openai_views import error_for
from core.compat.shape import chat_request, resolve_model
from core.errors import NoRoute, UnknownModel
from core.routing.breaker import (
    HALF_OPEN,
    OPEN,
    Breaker,
    capacity_under,
    failure_target,
    success_targets,
)
from core.routing.decide import cloud_fallback, route
from core.routing.model_names import catalog_name, with_tag
from tests.routing.test_routing_decide import ask, device, fleet

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


def test_untagged_names_mean_latest() -> None:
    assert with_tag("llama3") == "llama3:latest" and with_tag("hf.co/a/b:Q4") == "hf.co/a/b:Q4"
    assert catalog_name("llama3", {"llama3:latest", "x"}) == "llama3:latest"
    assert catalog_name("llama3:latest", {"llama3"}) == "llama3"
    assert catalog_name("llama3:8b", {"llama3:latest"}) is None


def test_open_device_breaker_routes_around_the_device() -> None:
    f = fleet(
        device("a."),
        device("b."),
        breakers={"device:a.": "open after 3 failures: boom"},
    )
    decision = route(ask(provider="ollama"), f)
    assert decision.candidates == ["b."]
    assert any("circuit open" in r for r in decision.reason)
    # Half-open: eligible again (the claim lets one probe through).
    f = fleet(device("a."), breakers={"device:a.": "half_open after 3 failures"})
    assert route(ask(provider="ollama"), f).candidates == ["a."]


def test_every_device_degraded_is_503_naming_the_circuit() -> None:
    f = fleet(device("a."), breakers={"device:a.": "open after 3 failures"})
    with pytest.raises(NoRoute, match="circuit open"):
        route(ask(provider="ollama"), f)


def test_open_cloud_breaker_skips_the_provider() -> None:
    f = fleet(device("a."), breakers={"provider:openrouter": "open after 3 failures"})
    assert route(ask(), f).provider == "openai"
    fallback = cloud_fallback(ask(constraints={"fallback": True}), f)
    assert fallback is not None and fallback.provider == "openai"
    assert cloud_fallback(ask(), fleet(device("a."), kinds=frozenset({"ollama.generate"}))) is None


def test_breaker_states_and_capacity() -> None:
    now = datetime.now(UTC)
    assert Breaker("device:a.").state(now) == "closed"
    assert Breaker("device:a.", 3, now + timedelta(seconds=5)).state(now) == OPEN
    assert Breaker("device:a.", 3, now - timedelta(seconds=5)).state(now) == HALF_OPEN
    assert [capacity_under(s, 4) for s in ("closed", OPEN, HALF_OPEN)] == [4, 0, 1]
    assert failure_target("ollama.generate", "a.", "ollama") == "device:a."
    assert failure_target("openai.chat", None, "openai") == "provider:openai"
    assert failure_target("benchmark.ollama.generate", "a.", "ollama") is None
    assert success_targets({"device_id": "a.", "provider": "ollama"}) == ["device:a."]
    assert success_targets({"device_id": None, "provider": "openrouter"}) == ["provider:openrouter"]


def test_errors_in_openai_shape() -> None:
    status, body = error_for(NoRoute("nothing live"))
    assert status == 503
    assert body == {
        "error": {
            "message": "nothing live",
            "type": "service_unavailable",
            "param": None,
            "code": "no_route",
        }
    }


def test_replay_holds_back_a_retried_stream_until_it_passes_what_was_sent() -> None:
    from core.compat.jobs import Replay

    replay = Replay()
    replay.new_attempt()
    assert [replay.add(d) for d in ("ab", "c")] == ["ab", "c"]
    replay.new_attempt()  # the retry streams from the start again
    assert [replay.add(d) for d in ("a", "bc", "de")] == ["", "", "de"]
    assert replay.sent == "abcde" and not replay.diverged
    replay.new_attempt()
    assert replay.add("xyz") == "" and replay.diverged
