"""Applies db/init/*.sql in order, once each, safe with several core replicas starting at once."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import asyncpg

from core.db.queries import load_queries
from db import SCHEMA_DIR

log = logging.getLogger(__name__)
Q = load_queries(Path(__file__).with_name("migrate.sql"))

# Any constant shared by all replicas; serialises concurrent migrations.
_MIGRATION_LOCK_KEY = 0x6C6C6D6D6370  # "llmmcp"


def schema_files(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """The schema files in the order they are applied."""
    return sorted(schema_dir.glob("*.sql"))


async def apply_schema(conn: asyncpg.Connection, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Applies the files not yet recorded in schema_migrations; returns their names.

    Every file is itself idempotent, so a database initialised by the Postgres
    container (which runs the same files) is simply recorded here.
    """
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute(Q["migration_lock"], _MIGRATION_LOCK_KEY)
        await conn.execute(Q["schema_migrations_create"])
        done = {r["name"]: r["checksum"] for r in await conn.fetch(Q["schema_migration_list"])}
        for path in schema_files(schema_dir):
            sql = path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if done.get(path.name) == checksum:
                continue
            if path.name in done:
                log.warning("schema file %s changed since it was applied; re-applying", path.name)
            await conn.execute(sql)
            await conn.execute(Q["schema_migration_record"], path.name, checksum)
            applied.append(path.name)
    if applied:
        log.info("applied schema files: %s", ", ".join(applied))
    return applied
