"""Asks one Ollama what it is and what it has: /api/version, /api/tags, /api/show.

The parsing is pure (parse_tags, parse_context_length, parse_params_b); probe() is
the thin I/O around it and never raises: failures come back as OllamaProbe.error.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from core.fleet.models import OllamaModel, OllamaProbe, ProbeTarget

_PARAMS = re.compile(r"^\s*([\d.]+)\s*([KMBT]?)\s*$", re.I)
_SCALE = {"": 1e-9, "K": 1e-6, "M": 1e-3, "B": 1.0, "T": 1e3}
_MAX_SHOWS = 4  # /api/show calls at once against one device


def parse_params_b(parameter_size: str | None) -> float | None:
    """Ollama's "1.2B" / "135M" / "8x7B"-less sizes in billions; None when unparseable."""
    if not parameter_size:
        return None
    match = _PARAMS.match(parameter_size)
    if not match:
        return None
    try:
        return round(float(match.group(1)) * _SCALE[match.group(2).upper()], 6)
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_tags(data: Any) -> list[OllamaModel]:
    """The models of an /api/tags answer; entries without a name are skipped."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise ValueError("/api/tags answer has no models list")
    models: list[OllamaModel] = []
    for entry in data["models"]:
        if not isinstance(entry, dict):
            continue
        name = _text(entry.get("name")) or _text(entry.get("model"))
        if not name:
            continue
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        size = entry.get("size")
        parameter_size = _text(details.get("parameter_size"))
        models.append(
            OllamaModel(
                name=name,
                size_bytes=size if isinstance(size, int) and size >= 0 else None,
                family=_text(details.get("family")),
                parameter_size=parameter_size,
                params_b=parse_params_b(parameter_size),
                quantization=_text(details.get("quantization_level")),
            )
        )
    return models


def parse_context_length(show: Any) -> int | None:
    """`<arch>.context_length` from an /api/show answer's model_info."""
    if not isinstance(show, dict) or not isinstance(show.get("model_info"), dict):
        return None
    info = show["model_info"]
    arch = info.get("general.architecture")
    value = info.get(f"{arch}.context_length") if isinstance(arch, str) else None
    if value is None:  # some models name the key after another family
        value = next((v for k, v in info.items() if k.endswith(".context_length")), None)
    return value if isinstance(value, int) and value > 0 else None


def _describe(exc: Exception, timeout: float) -> tuple[str, bool]:
    """(message, refused) for a failed probe."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer within {timeout:g}s", False
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed: {exc}", True
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.path}", False
    if isinstance(exc, ValueError):
        return f"not an Ollama answer: {exc}", False
    return f"{type(exc).__name__}: {exc}", False


async def _show(
    client: httpx.AsyncClient, target: ProbeTarget, name: str, limit: asyncio.Semaphore
) -> int | None:
    async with limit:
        try:
            answer = await client.post(f"{target.base_url}/api/show", json={"model": name})
            answer.raise_for_status()
            return parse_context_length(answer.json())
        except (httpx.HTTPError, ValueError):
            return None  # asked again next round: the context length is still unknown


async def probe(
    client: httpx.AsyncClient,
    target: ProbeTarget,
    *,
    limit_seconds: float,
    needs_show: Callable[[str], bool],
) -> OllamaProbe:
    """Probes one target; version + tags within `limit_seconds`, /api/show calls within another.

    `needs_show(name)` says which models need /api/show (new ones, or unknown context).
    """
    try:
        async with asyncio.timeout(limit_seconds):
            started = time.perf_counter()
            answer = await client.get(f"{target.base_url}/api/version")
            latency_ms = (time.perf_counter() - started) * 1000
            answer.raise_for_status()
            version = answer.json().get("version")
            tags = await client.get(f"{target.base_url}/api/tags")
            tags.raise_for_status()
            models = parse_tags(tags.json())
    except Exception as exc:  # every failure is a finding, never a crash of the round
        message, refused = _describe(exc, limit_seconds)
        return OllamaProbe(target=target, error=message, refused=refused)
    wanted = [m for m in models if needs_show(m.name)]
    if wanted:
        limit = asyncio.Semaphore(_MAX_SHOWS)
        contexts: dict[str, int | None] = {}
        try:
            async with asyncio.timeout(limit_seconds):
                shows = (_show(client, target, m.name, limit) for m in wanted)
                found = await asyncio.gather(*shows)
                contexts = {m.name: c for m, c in zip(wanted, found, strict=True)}
        except TimeoutError:
            pass
        models = [
            replace(m, context_length=contexts[m.name]) if m.name in contexts else m for m in models
        ]
    return OllamaProbe(
        target=target,
        version=version if isinstance(version, str) else None,
        latency_ms=round(latency_ms, 2),
        models=tuple(models),
    )
