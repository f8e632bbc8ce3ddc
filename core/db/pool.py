"""The asyncpg connection pool core owns for its lifetime."""

from __future__ import annotations

import json

import asyncpg


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
    """Opens a pool to `dsn`; raises OSError/asyncpg errors when Postgres is unreachable."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_connection,
        command_timeout=60,
    )


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool's (for LISTEN and maintenance)."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
