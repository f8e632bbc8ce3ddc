"""`provider=auto` and friends: provider, kind, model and devices for one request. Pure.

A named model decides first: only the providers that serve it are tried (a model no device
has goes to the cloud that serves it even under prefer_local), and a model nobody serves is
refused before any job is written. Then the rules:
1. task=embed -> ollama.
2. force_cloud -> OpenRouter -> OpenAI -> Ollama (first available).
3. prefer_local and an Ollama is available -> Ollama.
4. otherwise OpenRouter -> OpenAI -> Ollama.
5. with max_latency_ms, Ollama only on devices whose measured figures predict a finish in
   time; with no figures, Ollama only when no cloud is available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput, NoRoute, UnknownModel
from core.routing.devices import device_for_address, limit_violation, rank_devices
from core.routing.fleet import Fleet
from core.routing.model_names import catalog_name, cloud_for, split_provider
from core.routing.schemas import LlmRequest
from proto.contract import ADDRESS_KEYS, OLLAMA_EMBED, kind_for

CLOUDS = ("openrouter", "openai")
# Tokens assumed for a latency prediction when the request gives no max_tokens.
DEFAULT_PREDICTED_TOKENS = 256


@dataclass
class Decision:
    provider: str
    kind: str
    model: str
    payload: dict[str, Any]
    device_id: str | None = None
    # Late binding: the job runs on the first of these with a free slot (None: not bound).
    candidates: list[str] | None = None
    reason: list[str] = field(default_factory=list)


class _Skip(Exception):
    """This provider cannot take the request; the message says why."""

    def __init__(self, message: str, *, unprocessable: bool = False) -> None:
        super().__init__(message)
        self.unprocessable = unprocessable


def _ollama_name(fleet: Fleet, model: str) -> str | None:
    """The name to ask Ollama for (the catalog's spelling); None when no device has it. With
    no device known, a name without a vendor prefix goes to the worker's own Ollama as is."""
    if not fleet.ollama_devices:
        return None if "/" in model else model
    return catalog_name(model, fleet.catalog())


def _cloud_serves(fleet: Fleet, provider: str, model: str) -> bool:
    if provider == "openrouter":
        return "/" in model
    return "/" not in model and model not in fleet.catalog()


def _cloud_available(fleet: Fleet, task: str) -> bool:
    return any((kind_for(p, task) or "") in fleet.live_kinds for p in CLOUDS)


def _messages(req: LlmRequest) -> list[dict[str, str]]:
    if req.messages:
        return [m.model_dump() for m in req.messages]
    return [{"role": "user", "content": req.prompt or ""}]


def build_payload(req: LlmRequest, provider: str, kind: str, model: str) -> dict[str, Any]:
    """The job payload for a request without an explicit one: /api/generate's body for Ollama
    (messages folded into system and prompt), a chat completion's for a cloud."""
    if kind == OLLAMA_EMBED:
        text = req.prompt if req.prompt is not None else _messages(req)[-1]["content"]
        return {"model": model, "prompt": text}
    if provider == "ollama":
        payload: dict[str, Any] = {"model": model}
        if req.prompt is not None and not req.messages:
            payload["prompt"] = req.prompt
        else:
            msgs = _messages(req)
            system = [m["content"] for m in msgs if m["role"] == "system"]
            if system:
                payload["system"] = "\n\n".join(system)
            payload["prompt"] = "\n\n".join(m["content"] for m in msgs if m["role"] != "system")
        options: dict[str, Any] = {}
        if req.temperature is not None:
            options["temperature"] = req.temperature
        if req.max_tokens is not None:
            options["num_predict"] = req.max_tokens
        if options:
            payload["options"] = options
        return payload
    payload = {"model": model, "messages": _messages(req)}
    if req.temperature is not None:
        payload["temperature"] = req.temperature
    if req.max_tokens is not None:
        payload["max_tokens"] = req.max_tokens
    return payload


def _requested_model(req: LlmRequest) -> str | None:
    if req.payload and isinstance(req.payload.get("model"), str):
        return req.payload["model"]
    return req.model


def _pinned_device(req: LlmRequest, fleet: Fleet) -> str | None:
    """The device a client payload names; InvalidInput for an address that is no device."""
    if not req.payload:
        return None
    pinned: str | None = None
    for key in ADDRESS_KEYS:
        value = req.payload.get(key)
        if value is None:
            continue
        device = device_for_address(fleet, str(value))
        if device is None:
            raise InvalidInput(f"payload {key} {value!r} is not a known device")
        pinned = device.id
    return pinned


def _choose_model(req: LlmRequest, fleet: Fleet, provider: str, explicit: bool) -> str:
    wanted = _requested_model(req)
    defaults = fleet.defaults
    if provider == "ollama":
        default = defaults.ollama_embed if req.task == "embed" else defaults.ollama
        if wanted is None:
            return _ollama_name(fleet, default) or default
        if found := _ollama_name(fleet, wanted):
            return found
        if explicit and "/" not in wanted:
            raise UnknownModel(wanted, f"no device has model {wanted}")
        return _ollama_name(fleet, default) or default
    default = defaults.openrouter if provider == "openrouter" else defaults.openai
    if wanted is None or not _cloud_serves(fleet, provider, wanted):
        return default
    return wanted


def _try_provider(
    req: LlmRequest, fleet: Fleet, provider: str, *, explicit: bool, reason: list[str]
) -> Decision:
    kind = kind_for(provider, req.task)
    if kind is None:
        raise _Skip(f"{provider} cannot {req.task}", unprocessable=True)
    if kind not in fleet.live_kinds:
        raise _Skip(f"no live worker runs {kind}")
    circuit = fleet.circuit_open(f"provider:{provider}")
    if circuit and provider != "ollama":
        raise _Skip(f"circuit {circuit}")
    model = _choose_model(req, fleet, provider, explicit)
    wanted = _requested_model(req)
    if wanted and wanted != model:
        reason.append(f"{provider} cannot serve {wanted}; using its default {model}")
    payload = dict(req.payload) if req.payload else build_payload(req, provider, kind, model)
    decision = Decision(provider=provider, kind=kind, model=model, payload=payload)
    if provider == "ollama":
        _place_on_device(req, fleet, decision, explicit=explicit, reason=reason)
    return decision


def _place_on_device(
    req: LlmRequest, fleet: Fleet, decision: Decision, *, explicit: bool, reason: list[str]
) -> None:
    model = decision.model
    pinned = _pinned_device(req, fleet)
    if pinned is not None:
        violation = limit_violation(fleet, pinned, model)
        if violation:
            raise _Skip(f"device {pinned}: {violation}", unprocessable=True)
        decision.device_id = pinned
        reason.append(f"device {pinned} named in payload")
        return
    if not fleet.ollama_devices:
        reason.append("no devices known: the worker's OLLAMA_BASE_URL serves it")
        return
    ranking = rank_devices(fleet, model)
    reason.extend(f"device {d}: {why}" for d, why in ranking.rejected)
    if not ranking.eligible:
        if not any(model in d.models for d in fleet.ollama_devices):
            raise _Skip(f"no device has model {model}", unprocessable=True)
        if ranking.limit_violations:
            names = "; ".join(f"{d}: {why}" for d, why in ranking.limit_violations)
            raise _Skip(f"devices with {model} excluded by limits ({names})", unprocessable=True)
        if ranking.degraded:
            raise _Skip(f"every device with {model} is offline or degraded (circuit open)")
        raise _Skip(f"every device with {model} is offline")
    eligible = ranking.eligible
    limit = req.constraints.max_latency_ms
    if limit is not None and not explicit:
        eligible = _within_latency(req, fleet, model, eligible, limit, reason)
        if not eligible:
            raise _Skip(f"no device is predicted to finish within {limit:.0f} ms")
    decision.candidates = [d.id for d in eligible]
    decision.device_id = eligible[0].id
    reason.append(f"devices by tokens/s: {', '.join(decision.candidates)}")


def _within_latency(
    req: LlmRequest, fleet: Fleet, model: str, devices: list[Any], limit: float, reason: list[str]
) -> list[Any]:
    tokens = req.max_tokens or DEFAULT_PREDICTED_TOKENS
    cloud = _cloud_available(fleet, req.task)
    kept = []
    for device in devices:
        stats = fleet.stats.get((device.id, model))
        expected = stats.expected_ms(tokens) if stats else None
        if expected is None:
            if cloud:
                reason.append(f"device {device.id}: no figures for {model}, cloud available")
            else:
                kept.append(device)
        elif expected <= limit:
            kept.append(device)
        else:
            reason.append(f"device {device.id}: expected {expected:.0f} ms > {limit:.0f} ms")
    return kept


def model_servers(req: LlmRequest, fleet: Fleet, model: str) -> list[str]:
    """The providers that serve an explicitly named model (provider=auto): a device's model
    is Ollama's; any other name is the live cloud whose ids look like it; with no device known,
    the worker's own Ollama may have it. Empty: nobody serves it."""
    if catalog_name(model, fleet.catalog()):
        return ["ollama"]
    if req.task == "embed":
        return [] if fleet.ollama_devices else ["ollama"]
    cloud = cloud_for(model)
    if cloud and kind_for(cloud, req.task) in fleet.live_kinds:
        return [cloud]
    if not fleet.ollama_devices and "/" not in model:
        return ["ollama"]
    return []


def _unknown_model_reason(fleet: Fleet, model: str) -> str:
    cloud = cloud_for(model)
    where = "no device has it" if fleet.ollama_devices else "no device is known"
    offline = [d.id for d in fleet.ollama_devices if not d.online]
    if offline:
        where += f" (devices offline: {', '.join(offline)})"
    if cloud is None:
        return f"{where}, and no cloud serves Ollama tags"
    return f"{where}, and no live worker runs {cloud}.chat"


def _explicit_model(req: LlmRequest, fleet: Fleet, reason: list[str]) -> LlmRequest:
    """provider=auto with a model: a provider prefix picks the provider; otherwise the
    providers that serve the model are the only ones tried. UnknownModel when none does."""
    wanted = _requested_model(req)
    if req.provider != "auto" or wanted is None:
        return req
    prefix, name = split_provider(wanted)
    if prefix is not None and req.payload is None:
        reason.append(f"model {wanted} names provider {prefix}")
        return req.model_copy(update={"provider": prefix, "model": name})
    servers = model_servers(req, fleet, wanted)
    if not servers:
        raise UnknownModel(wanted, _unknown_model_reason(fleet, wanted))
    reason.append(f"model {wanted}: served by {', '.join(servers)}")
    return req


def provider_order(req: LlmRequest, fleet: Fleet, reason: list[str]) -> list[str]:
    """Providers to try, in order, for provider=auto (rules 1-4)."""
    c = req.constraints
    if req.task == "embed":
        reason.append("rule 1: embed runs on ollama")
        return ["ollama"]
    if c.force_cloud:
        reason.append("rule 2: force_cloud: openrouter, openai, then ollama")
        return ["openrouter", "openai", "ollama"]
    if c.prefer_local:
        reason.append("rule 3: prefer_local: ollama first")
        return ["ollama", "openrouter", "openai"]
    reason.append("rule 4: openrouter, openai, then ollama")
    return ["openrouter", "openai", "ollama"]


def route(req: LlmRequest, fleet: Fleet) -> Decision:
    """Decides provider, kind, model and device(s).

    Raises UnknownModel (an InvalidInput, 422) when nobody serves the named model,
    InvalidInput when the request can never be served as asked (bad address, every device
    excluded by limits) and NoRoute (503) when nothing live can run it now; all name what is
    missing.
    """
    if not req.has_input():
        raise InvalidInput("give prompt, messages or payload")
    reason: list[str] = []
    _pinned_device(req, fleet)  # an unknown address is refused whichever provider runs it
    req = _explicit_model(req, fleet, reason)
    explicit = req.provider != "auto"
    order = [req.provider] if explicit else provider_order(req, fleet, reason)
    if explicit:
        reason.append(f"provider {req.provider} given")
    elif (wanted := _requested_model(req)) is not None:
        servers = model_servers(req, fleet, wanted)
        order = [p for p in order if p in servers] or servers
    misses: list[_Skip] = []
    for provider in order:
        try:
            decision = _try_provider(req, fleet, provider, explicit=explicit, reason=reason)
        except _Skip as skip:
            misses.append(skip)
            reason.append(f"{provider}: {skip}")
            continue
        reason.append(f"chose {provider} ({decision.kind}, {decision.model})")
        decision.reason = reason
        return decision
    message = "nothing can serve this request: " + "; ".join(
        f"{p}: {m}" for p, m in zip(order, misses, strict=True)
    )
    if any(m.unprocessable for m in misses):
        raise InvalidInput(message)
    raise NoRoute(message)


def cloud_fallback(req: LlmRequest, fleet: Fleet) -> Decision | None:
    """The cloud job an Ollama request becomes if its devices fail (constraints.fallback):
    the first live cloud whose breaker is not open; None when there is none."""
    if req.task == "embed":
        return None
    for provider in CLOUDS:
        try:
            decision = _try_provider(req, fleet, provider, explicit=False, reason=[])
        except _Skip:
            continue
        decision.reason = [f"fallback: {provider} ({decision.model}) if the devices fail"]
        return decision
    return None
