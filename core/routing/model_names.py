"""Model names by each ecosystem's rules, and which providers can serve a name. Pure.

Ollama: a name without a tag means `:latest` (`nomic-embed-text` is `nomic-embed-text:latest`).
A `provider/model` prefix names the provider. A bare name that a device has is an Ollama model;
any other name carrying an Ollama tag (`mistral:7b`) is one nobody here serves. A `vendor/model`
id is OpenRouter's; any other bare name is OpenAI's.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.routing.schemas import PROVIDERS

LATEST = "latest"
# OpenAI's fine-tuned models carry colons that are not Ollama tags: ft:gpt-4o-mini:org::id.
_OPENAI_COLON_PREFIXES = ("ft:",)


def has_tag(name: str) -> bool:
    return ":" in name.rsplit("/", 1)[-1]


def with_tag(name: str) -> str:
    """`name:latest` for an untagged name; a tagged one unchanged."""
    return name if has_tag(name) else f"{name}:{LATEST}"


def catalog_name(name: str, catalog: Iterable[str]) -> str | None:
    """The catalog's spelling of `name` (exact first, then with `:latest` on either side);
    None when no device has it."""
    names = set(catalog)
    if name in names:
        return name
    wanted = with_tag(name)
    return next((n for n in sorted(names) if with_tag(n) == wanted), None)


def split_provider(model: str) -> tuple[str | None, str]:
    """("openai", "gpt-4o") for "openai/gpt-4o"; (None, model) without a provider prefix."""
    prefix, sep, rest = model.partition("/")
    if sep and prefix in PROVIDERS and rest:
        return prefix, rest
    return None, model


def cloud_for(name: str) -> str | None:
    """The cloud whose ids look like `name` (openrouter: vendor/model, openai: a bare name);
    None for an Ollama-tagged name, which no cloud serves."""
    if "/" in name:
        return "openrouter"
    if has_tag(name) and not name.startswith(_OPENAI_COLON_PREFIXES):
        return None
    return "openai"
