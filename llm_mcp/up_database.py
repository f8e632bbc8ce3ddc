"""The embedded Postgres of `llm-mcp up`: started, or taken over from an owner that was
killed, and what `up` says about it (a busy data dir, what running as root changed)."""

from __future__ import annotations

import os
from pathlib import Path

from llm_mcp.instance_lock import DataDirBusy, Holder
from llm_mcp.pgcluster import PG_SYSTEM_USER, LocalPostgres, free_port


def busy_message(exc: DataDirBusy, http_port: int) -> str:
    lines = [f"llm-mcp: {exc}.", "  Stop that instance first, or choose another --data-dir."]
    if exc.holder is not None:
        lines.append(
            "  To run a second instance on the same database, give it that Postgres and other "
            f"ports:\n    DATABASE_URL={exc.holder.database_url} llm-mcp up "
            f"--http-port {http_port + 1} --grpc-port … --bridge-port …"
        )
    return "\n".join(lines)


def as_root_line(postgres: LocalPostgres) -> str | None:
    """Postgres refuses to run as root; what `up` did about it, said rather than done quietly."""
    if os.geteuid() != 0:
        return None
    user = f"system user {PG_SYSTEM_USER}" + (" (created now)" if postgres.created_user else "")
    line = f"llm-mcp: as root       Postgres runs as {user}"
    if postgres.widened:
        line += "; o+x (search only) added to " + ", ".join(str(p) for p in postgres.widened)
    return line


def embedded_postgres(data: Path, killed: Holder | None) -> tuple[LocalPostgres, str]:
    """The data dir's Postgres, started; or, when the last owner was killed and left its
    server running, that server taken over (we hold the lock, so nobody else uses it)."""
    postgres = LocalPostgres(data / "postgres", port=free_port())
    if killed is not None:
        print(
            f"llm-mcp: the last `llm-mcp up` on {data} (pid {killed.pid}) did not stop "
            "cleanly; recovering",
            flush=True,
        )
    if running := postgres.running_server():
        pid, port = running
        print(
            f"llm-mcp: taking over the Postgres left running there (pid {pid}, port {port})",
            flush=True,
        )
        return postgres, postgres.adopt(port)
    return postgres, postgres.start()
