"""The worker's handler registry: WORKER_KINDS narrows the kinds it runs; an unknown kind is
named."""

from __future__ import annotations

import pytest

from worker.handlers.registry import default_handlers, select_handlers


def test_worker_kinds_narrow_and_unknown_kinds_are_named() -> None:
    available = default_handlers()
    assert select_handlers(available, []) == available
    assert list(select_handlers(available, ["echo"])) == ["echo"]
    with pytest.raises(ValueError, match="cannot run: nope"):
        select_handlers(default_handlers(), ["nope"])
