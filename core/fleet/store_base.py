"""The connection seam the fleet's stores share: driver errors become ours here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import asyncpg

from core.errors import InvalidInput
from core.queue.store import StoreUnavailable


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        raise InvalidInput(str(exc).splitlines()[0]) from exc
    except (OSError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError) as exc:
        raise StoreUnavailable(f"database unavailable: {exc}") from exc


class PoolStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        with translated_errors():
            async with self._pool.acquire() as conn:
                yield conn
