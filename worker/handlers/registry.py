"""Which handler runs which kind. A worker advertises and claims exactly these kinds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from proto.contract import ECHO
from worker.handlers.base import Handler
from worker.handlers.echo import echo
from worker.handlers.ollama import Ollama
from worker.handlers.openai_compat import OpenAICompatible
from worker.settings import WorkerSettings


class Providers:
    """The provider clients of one worker (one HTTP client each); close with aclose()."""

    def __init__(self, settings: WorkerSettings) -> None:
        # One pool per provider, as many connections as the worker runs jobs at once.
        timeouts = {
            "timeout": settings.provider_timeout_seconds,
            "connect_timeout": settings.provider_connect_timeout,
            "max_connections": settings.worker_concurrency,
        }
        self.ollama = Ollama(
            base_url=settings.ollama_base_url,
            model=settings.ollama_model,
            embed_model=settings.ollama_embed_model,
            **timeouts,
        )
        self.clouds: list[OpenAICompatible] = []
        # A cloud kind only with its key: a worker never claims jobs it cannot run.
        if settings.openai_api_key and settings.openai_api_key.get_secret_value():
            self.clouds.append(
                OpenAICompatible(
                    provider="openai",
                    base_url=settings.openai_base_url,
                    api_key=settings.openai_api_key.get_secret_value(),
                    model=settings.openai_model,
                    **timeouts,
                )
            )
        if settings.openrouter_api_key and settings.openrouter_api_key.get_secret_value():
            self.clouds.append(
                OpenAICompatible(
                    provider="openrouter",
                    base_url=settings.openrouter_base_url,
                    api_key=settings.openrouter_api_key.get_secret_value(),
                    model=settings.openrouter_model,
                    **timeouts,
                )
            )

    def handlers(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {ECHO: echo}
        handlers.update(self.ollama.handlers())
        for cloud in self.clouds:
            handlers.update(cloud.handlers())
        return handlers

    async def aclose(self) -> None:
        await self.ollama.aclose()
        for cloud in self.clouds:
            await cloud.aclose()


def default_handlers(settings: WorkerSettings | None = None) -> dict[str, Handler]:
    """Every handler this worker can run with its settings (environment when None), by kind."""
    return Providers(settings or WorkerSettings()).handlers()


def select_handlers(available: Mapping[str, Handler], wanted: Iterable[str]) -> dict[str, Handler]:
    """Narrows to WORKER_KINDS (empty: all); raises ValueError naming kinds it cannot run."""
    wanted = list(wanted)
    if not wanted:
        return dict(available)
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ValueError(
            f"WORKER_KINDS names kinds this worker cannot run: {', '.join(unknown)} "
            f"(it can run: {', '.join(sorted(available))})"
        )
    return {k: available[k] for k in wanted}
