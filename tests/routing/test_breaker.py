"""Circuit breakers: their states and capacities, which failures open which breaker, and routing
decisions around an open device or cloud provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import NoRoute
from core.routing.breaker import (
    HALF_OPEN,
    OPEN,
    Breaker,
    capacity_under,
    failure_target,
    success_targets,
)
from core.routing.decide import cloud_fallback, route
from tests.routing.test_routing_decide import ask, device, fleet


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
