"""Routing decisions as plain functions over plain data: rules 1-5, explicit choices, errors."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInput, NoRoute, UnknownModel
from core.routing.decide import route
from core.routing.fleet import Device, Fleet, Stats
from core.routing.limits import DeviceLimits, LimitsTable, ModelFacts
from core.routing.schemas import LlmRequest

ALL_KINDS = frozenset({"ollama.generate", "ollama.embed", "openai.chat", "openrouter.chat"})


def device(
    device_id: str, *models: str, online: bool = True, running: int = 0, params: float = 1.0
) -> Device:
    return Device(
        id=device_id,
        online=online,
        ollama_addr=f"http://10.0.0.{len(device_id)}:11434",
        ollama_host=device_id.rstrip("."),
        models={m: ModelFacts(m, params_b=params) for m in models or ("llama3.2:1b",)},
        running=running,
    )


def fleet(*devices: Device, kinds: frozenset[str] = ALL_KINDS, **extra: Any) -> Fleet:
    return Fleet(live_kinds=kinds, devices=devices, **extra)


def ask(**fields: Any) -> LlmRequest:
    fields.setdefault("prompt", "hi")
    return LlmRequest(**fields)


def test_rule1_embed_goes_to_ollama_even_when_clouds_are_up() -> None:
    d = route(
        ask(task="embed", constraints={"force_cloud": True}),
        fleet(device("a.", "nomic-embed-text")),
    )
    assert (d.provider, d.kind, d.model) == ("ollama", "ollama.embed", "nomic-embed-text")
    assert d.payload == {"model": "nomic-embed-text", "prompt": "hi"}
    assert d.reason[0].startswith("rule 1")


def test_rule2_force_cloud_prefers_openrouter_then_openai_then_ollama() -> None:
    req = ask(constraints={"force_cloud": True, "prefer_local": True})
    assert route(req, fleet(device("a."))).provider == "openrouter"
    no_router = ALL_KINDS - {"openrouter.chat"}
    assert route(req, fleet(device("a."), kinds=no_router)).provider == "openai"
    only_local = frozenset({"ollama.generate"})
    assert route(req, fleet(device("a."), kinds=only_local)).provider == "ollama"


def test_rule3_prefer_local_takes_ollama_when_available() -> None:
    d = route(ask(constraints={"prefer_local": True}), fleet(device("a.")))
    assert d.provider == "ollama" and d.kind == "ollama.generate"
    assert d.candidates == ["a."] and d.device_id == "a."
    # No device online: prefer_local falls back to the cloud order.
    d = route(ask(constraints={"prefer_local": True}), fleet(device("a.", online=False)))
    assert d.provider == "openrouter"
    assert "device a.: offline" in d.reason


def test_rule4_default_order_is_openrouter_openai_ollama() -> None:
    assert route(ask(), fleet(device("a."))).provider == "openrouter"
    kinds = frozenset({"openai.chat", "ollama.generate"})
    assert route(ask(), fleet(device("a."), kinds=kinds)).provider == "openai"
    assert route(ask(), fleet(device("a."), kinds=frozenset({"ollama.generate"}))).provider == (
        "ollama"
    )


def test_rule5_max_latency_keeps_only_devices_predicted_in_time() -> None:
    stats = {
        ("slow.", "llama3.2:1b"): Stats(tps=10, latency_ms=100),  # 100 + 200/10 s = 20.1 s
        ("fast.", "llama3.2:1b"): Stats(tps=200, latency_ms=100),  # 100 + 1000 ms = 1.1 s
    }
    req = ask(max_tokens=200, constraints={"prefer_local": True, "max_latency_ms": 3000})
    d = route(req, fleet(device("slow."), device("fast."), stats=stats))
    assert d.provider == "ollama" and d.candidates == ["fast."]
    assert any("slow.: expected 20100 ms > 3000 ms" in r for r in d.reason)
    # Nothing fits: the cloud takes it.
    tight = ask(max_tokens=200, constraints={"prefer_local": True, "max_latency_ms": 500})
    assert route(tight, fleet(device("slow."), device("fast."), stats=stats)).provider == (
        "openrouter"
    )


def test_rule5_without_figures_goes_cloud_when_a_cloud_is_available() -> None:
    req = ask(constraints={"prefer_local": True, "max_latency_ms": 3000})
    assert route(req, fleet(device("a."))).provider == "openrouter"
    local_only = fleet(device("a."), kinds=frozenset({"ollama.generate"}))
    assert route(req, local_only).provider == "ollama"


def test_explicit_provider_is_honoured_and_its_absence_is_503() -> None:
    d = route(ask(provider="openai", model="gpt-4o"), fleet(device("a.")))
    assert (d.provider, d.kind, d.model) == ("openai", "openai.chat", "gpt-4o")
    assert d.payload == {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(NoRoute, match=r"no live worker runs openai\.chat"):
        route(ask(provider="openai"), fleet(device("a."), kinds=frozenset({"ollama.generate"})))


def test_explicit_payload_is_used_as_is() -> None:
    payload = {"model": "llama3.2:1b", "prompt": "raw", "options": {"seed": 1}, "format": "json"}
    d = route(ask(provider="ollama", prompt=None, payload=payload), fleet(device("a.")))
    assert d.payload == payload and d.candidates == ["a."]


def test_a_model_is_never_sent_to_a_provider_that_cannot_serve_it() -> None:
    f = fleet(device("a.", "llama3.2:1b"))
    # An Ollama tag asked of OpenRouter: OpenRouter's default instead.
    d = route(ask(provider="openrouter", model="llama3.2:1b"), f)
    assert d.model == "google/gemini-2.0-flash"
    assert "openrouter cannot serve llama3.2:1b; using its default google/gemini-2.0-flash" in (
        d.reason
    )
    # An OpenAI model name stays with OpenAI.
    assert route(ask(provider="openai", model="gpt-4o-mini"), f).model == "gpt-4o-mini"


def test_a_named_model_decides_the_provider_even_under_prefer_local() -> None:
    f = fleet(device("a.", "llama3.2:1b"))
    # The documented full example: gpt-4o-mini with prefer_local is a cloud model, so the cloud.
    d = route(ask(model="gpt-4o-mini", constraints={"prefer_local": True}), f)
    assert (d.provider, d.model) == ("openai", "gpt-4o-mini")
    assert "model gpt-4o-mini: served by openai" in d.reason
    d = route(ask(model="openai/gpt-4o", constraints={"prefer_local": True}), f)
    assert (d.provider, d.model) == ("openai", "gpt-4o")
    # A device's model stays on the device, even where rule 4 puts the clouds first.
    d = route(ask(model="llama3.2:1b"), f)
    assert (d.provider, d.model, d.device_id) == ("ollama", "llama3.2:1b", "a.")
    # No tag means :latest, in both directions.
    tagged = fleet(device("a.", "nomic-embed-text:latest", "qwen3"))
    assert route(ask(task="embed", model="nomic-embed-text"), tagged).model == (
        "nomic-embed-text:latest"
    )
    assert route(ask(model="qwen3:latest"), tagged).model == "qwen3"


def test_a_model_nobody_serves_is_refused_naming_it() -> None:
    f = fleet(device("a.", "llama3.2:1b"))
    with pytest.raises(UnknownModel, match="mistral:7b") as caught:
        route(ask(model="mistral:7b", constraints={"prefer_local": True}), f)
    assert caught.value.code == "model_not_found"
    with pytest.raises(UnknownModel, match="gpt-4o-mini"):
        route(ask(model="gpt-4o-mini"), fleet(device("a."), kinds=frozenset({"ollama.generate"})))
    with pytest.raises(UnknownModel, match="bge-m3"):
        route(ask(task="embed", model="bge-m3"), f)


def test_explicit_ollama_with_a_model_no_device_has_is_422() -> None:
    with pytest.raises(UnknownModel, match=r"no device has model qwen2\.5:7b"):
        route(ask(provider="ollama", model="qwen2.5:7b"), fleet(device("a.")))


def test_nothing_available_names_what_is_missing() -> None:
    with pytest.raises(NoRoute) as caught:
        route(ask(), fleet(kinds=frozenset()))
    message = str(caught.value)
    for kind in ("openrouter.chat", "openai.chat", "ollama.generate"):
        assert f"no live worker runs {kind}" in message
    with pytest.raises(InvalidInput, match="openai cannot embed"):
        route(ask(task="embed", provider="openai"), fleet())


def test_every_device_excluded_by_limits_is_422_naming_them() -> None:
    limits = LimitsTable({"*": DeviceLimits(deny_models=("llama*",))})
    with pytest.raises(InvalidInput) as caught:
        route(ask(provider="ollama"), fleet(device("a."), device("b."), limits=limits))
    assert "a.: deny_models excludes llama3.2:1b" in str(caught.value)
    assert "b.: deny_models excludes llama3.2:1b" in str(caught.value)


def test_devices_ranked_by_tps_then_latency_then_load() -> None:
    stats = {
        ("a.", "llama3.2:1b"): Stats(tps=20, latency_ms=50),
        ("b.", "llama3.2:1b"): Stats(tps=80, latency_ms=90),
        ("c.", "llama3.2:1b"): Stats(tps=80, latency_ms=40),
    }
    devices = (device("a."), device("b."), device("c."), device("d.", running=0))
    d = route(ask(provider="ollama"), fleet(*devices, stats=stats))
    assert d.candidates == ["c.", "b.", "a.", "d."]
    # Same figures: the less loaded first.
    busy = (device("x.", running=3), device("y.", running=0))
    assert route(ask(provider="ollama"), fleet(*busy)).candidates == ["y.", "x."]


def test_payload_address_must_be_a_known_device() -> None:
    f = fleet(device("box.ts.net."))
    with pytest.raises(InvalidInput, match="is not a known device"):
        route(ask(provider="ollama", payload={"prompt": "x", "ollama_addr": "169.254.169.254"}), f)
    with pytest.raises(InvalidInput, match="is not a known device"):
        route(ask(provider="openai", payload={"prompt": "x", "base_url": "http://10.0.0.1"}), f)
    d = route(ask(provider="ollama", payload={"prompt": "x", "ollama_host": "box.ts.net"}), f)
    assert d.device_id == "box.ts.net." and d.candidates is None


def test_messages_become_an_ollama_prompt_with_system() -> None:
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "tags?"}]
    d = route(
        LlmRequest(provider="ollama", messages=msgs, temperature=0.2, max_tokens=50),
        fleet(device("a.")),
    )
    assert d.payload == {
        "model": "llama3.2:1b",
        "system": "be brief",
        "prompt": "tags?",
        "options": {"temperature": 0.2, "num_predict": 50},
    }


def test_no_devices_known_uses_the_workers_ollama_base_url() -> None:
    d = route(ask(provider="ollama"), fleet())
    assert d.device_id is None and d.candidates is None
    assert any("OLLAMA_BASE_URL" in r for r in d.reason)
