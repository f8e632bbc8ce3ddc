"""Child processes that are safe next to gRPC's threads.

An event loop's own subprocess support can start children with a plain fork()
(uvloop does): gRPC's fork handlers then run in the child while other threads hold
gRPC's locks, and the child crashes before exec (exit code -11, about one round in
eight under load). CPython's subprocess on Linux starts children with vfork(), which
runs no fork handlers and copies no locks; it is run in a thread so the loop goes on.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class CommandTimeout(Exception):
    """The command did not finish in time; it has been killed."""


def _run(argv: list[str], timeout: float) -> CommandResult:
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise CommandTimeout(f"{argv[0]} did not finish within {timeout}s") from None
    return CommandResult(done.returncode, done.stdout, done.stderr)


async def run_command(argv: list[str], *, limit_seconds: float) -> CommandResult:
    """Runs `argv` (no shell, stdin from /dev/null) to completion, at most `limit_seconds`.

    Raises CommandTimeout (the child killed) or OSError when it cannot be started. A
    cancelled caller returns at once; the child is still bounded by `limit_seconds`.
    """
    return await asyncio.to_thread(_run, argv, limit_seconds)
