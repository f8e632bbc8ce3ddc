"""A shared statement Postgres refused for its data: each item is written again alone, so a
bad item fails only its own caller (the shared inserts and completions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from core.errors import InvalidInput

Item = TypeVar("Item")
Answer = TypeVar("Answer")


async def each_alone_when_refused(
    write: Callable[[list[Item]], Awaitable[Sequence[Answer]]], items: list[Item]
) -> list[Answer | InvalidInput]:
    """`write(items)`, one answer per item; when Postgres refuses the data (InvalidInput),
    each item alone, the refusal as its answer. Any other error is raised."""
    try:
        return list(await write(items))
    except InvalidInput as exc:
        if len(items) == 1:
            return [exc]
    answers: list[Answer | InvalidInput] = []
    for item in items:
        try:
            answers.extend(await write([item]))
        except InvalidInput as exc:
            answers.append(exc)
    return answers
