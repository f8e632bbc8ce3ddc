"""What `llm-mcp up` says at start about the providers its workers will call: the Ollama at
OLLAMA_BASE_URL (asked once for /api/version and /api/tags) and each cloud key (one
GET /models). One line each, so a tour step that cannot work is named before it is tried."""

from __future__ import annotations

import os

import httpx
from pydantic import SecretStr, ValidationError

from worker.settings import WorkerSettings

TIMEOUT = httpx.Timeout(3.0, connect=2.0)


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"


def ollama_line(client: httpx.Client, base_url: str) -> str:
    base = base_url.rstrip("/")
    try:
        version = client.get(f"{base}/api/version")
        tags = client.get(f"{base}/api/tags")
        version.raise_for_status()
        tags.raise_for_status()
        models = tags.json().get("models") or []
        number = version.json().get("version", "?")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        reason = _reason(exc) if isinstance(exc, httpx.HTTPError) else "not an Ollama answer"
        return (
            f"not reachable at {base}: {reason} — ollama jobs will wait or fail "
            "(start Ollama, or set OLLAMA_BASE_URL)"
        )
    names = ", ".join(m.get("name", "?") for m in models[:5]) + (" …" if len(models) > 5 else "")
    shown = f" ({names})" if models else " — pull one: ollama pull <model>"
    return f"{base}: {len(models)} models{shown}, version {number}"


def cloud_line(client: httpx.Client, name: str, key: SecretStr | None, base_url: str) -> str:
    variable = f"{name.upper()}_API_KEY"
    if key is None:
        return f"off (no {variable}: {name}.chat not offered)"
    try:
        answer = client.get(
            f"{base_url.rstrip('/')}/models",
            headers={"authorization": f"Bearer {key.get_secret_value()}"},
        )
    except httpx.HTTPError as exc:
        return f"not reachable at {base_url}: {_reason(exc)} — {name} jobs will fail"
    if answer.status_code in (401, 403):
        return f"{variable} refused ({answer.status_code}) — {name} jobs will fail"
    if answer.status_code >= 400:
        return f"{base_url} answered {answer.status_code} to GET /models"
    return f"{variable} accepted by {base_url}"


def workers_ollama_url() -> str:
    """The Ollama the workers `up` starts will call (OLLAMA_BASE_URL or its default)."""
    if url := os.environ.get("OLLAMA_BASE_URL"):
        return url
    return str(WorkerSettings.model_fields["ollama_base_url"].default)


def provider_lines() -> list[tuple[str, str]]:
    """(provider, what answered) for the Ollama and the clouds the workers are configured for;
    empty when the worker settings are broken (the workers then say so by name)."""
    try:
        settings = WorkerSettings()
    except ValidationError:
        return []
    with httpx.Client(timeout=TIMEOUT) as client:
        return [
            ("ollama", ollama_line(client, settings.ollama_base_url)),
            (
                "openai",
                cloud_line(client, "openai", settings.openai_api_key, settings.openai_base_url),
            ),
            (
                "openrouter",
                cloud_line(
                    client, "openrouter", settings.openrouter_api_key, settings.openrouter_base_url
                ),
            ),
        ]
