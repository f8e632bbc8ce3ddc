"""Which handler runs which kind. A worker advertises and claims exactly these kinds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from worker.handlers.base import Handler
from worker.handlers.echo import echo


def default_handlers() -> dict[str, Handler]:
    """Every handler this build ships, by kind."""
    return {"echo": echo}


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
