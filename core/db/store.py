"""The seam every store shares: pool connections, and driver errors translated into ours.

asyncpg errors become core.errors exceptions here and nowhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import asyncpg

from core.errors import InvalidInput, StoreUnavailable

# A server going away mid-query (a restart closes every session with admin_shutdown), one not
# taking connections yet, or a connection lost on the way: all worth retrying elsewhere or later.
_UNAVAILABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # What asyncpg raises when a pooled connection the server just terminated is used before
    # the pool noticed ("cannot switch to state …"): the same outage, seen a moment later.
    asyncpg.InternalClientError,
)


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Bad data -> InvalidInput (422); an unreachable database -> StoreUnavailable (503)."""
    try:
        yield
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as exc:
        raise InvalidInput(str(exc).splitlines()[0]) from exc
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"database unavailable: {exc}") from exc


class PoolStore:
    """Base of the stores: `async with self._conn() as conn` gives a pool connection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[asyncpg.Connection]:
        with translated_errors():
            async with self._pool.acquire() as conn:
                yield conn
