"""The asyncpg connection pool core owns for its lifetime."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from core.db.queries import load_queries

Q = load_queries(Path(__file__).with_name("connection.sql"))
UP_HINT = "`llm-mcp up` needs no DATABASE_URL: without it, it runs its own Postgres"


class DatabaseUnreachable(OSError):
    """Core cannot open its pool; the message names DATABASE_URL, the host and the cause."""


def unreachable_message(dsn: str, exc: BaseException) -> str:
    """What a user needs to fix a DATABASE_URL that does not work (never the password)."""
    try:
        parts = urlsplit(dsn)
        host, port = parts.hostname or "localhost", parts.port or 5432
    except ValueError:
        return f"DATABASE_URL is not a valid Postgres URL ({UP_HINT})"
    if isinstance(exc, socket.gaierror):
        cause = f"its host {host!r} does not resolve ({exc.strerror or exc})"
    elif isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        cause = f"nothing accepts connections at {host}:{port} (connection refused)"
    elif isinstance(exc, TimeoutError):
        cause = f"{host}:{port} did not answer in time"
    else:
        cause = f"Postgres at {host}:{port} refused: {exc}"
    return f"DATABASE_URL: cannot connect: {cause}. ({UP_HINT}.)"


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out as Python objects, so stores never juggle JSON strings.
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
    )
    await conn.set_type_codec(
        "json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
    )


async def _keep_connection(_conn: asyncpg.Connection) -> None:
    """Replaces asyncpg's reset-on-release, a round trip per query that we do not need:
    pool connections never keep session state (no LISTEN, no session advisory locks, no SET);
    whatever needs that uses its own connection (see connect())."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Opens a pool to `dsn`; raises DatabaseUnreachable, naming DATABASE_URL and its host,
    when Postgres cannot be reached or refuses us."""
    try:
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_connection,
            command_timeout=60,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise DatabaseUnreachable(unreachable_message(dsn, exc)) from exc


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool's (for LISTEN and maintenance)."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def ping(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy, *, limit_seconds: float
) -> None:
    """One round trip on `conn`; TimeoutError after `limit_seconds`, asyncpg's errors as is."""
    await conn.fetchval(Q["connection_ping"], timeout=limit_seconds)
