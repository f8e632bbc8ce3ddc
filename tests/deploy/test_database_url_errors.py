"""A DATABASE_URL that does not work: `llm-mcp core` says which variable, which host, and that
`llm-mcp up` needs none — not a bare resolver error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.db.pool import DatabaseUnreachable
from llm_mcp.pgcluster import free_port
from testkit.support import start_core

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _example_database_url() -> str:
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith("DATABASE_URL="):
            return line.split("=", 1)[1]
    raise AssertionError(".env.example has no DATABASE_URL")


def _core(database_url: str, *prefix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "HTTP_PORT": "0", "GRPC_PORT": "0"}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "llm_mcp", "core"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _no_network() -> list[str]:
    """`unshare -n`: a network namespace of its own, so the lookup fails here, as on a laptop
    without compose's `postgres` host, and no query leaves the machine."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {probe.stderr.strip()}")
    return ["unshare", "-n"]


@pytest.mark.slow  # starts `llm-mcp core`: seconds of imports on a loaded machine
def test_a_host_that_does_not_resolve_is_named_with_the_variable() -> None:
    url = _example_database_url()  # what sourcing .env.example for `llm-mcp up` gives
    result = _core(url, *_no_network())
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stderr and "'postgres' does not resolve" in result.stderr
    assert "`llm-mcp up` needs no DATABASE_URL" in result.stderr
    assert "change-me" not in result.stderr, "the password is never printed"
    assert "Traceback" not in result.stderr


async def test_a_port_nobody_listens_on_is_named_with_the_variable() -> None:
    port = free_port()
    with pytest.raises(DatabaseUnreachable) as caught:
        async with start_core(f"postgresql://llm:secret@127.0.0.1:{port}/llm_mcp"):
            pass
    message = str(caught.value)
    assert message.startswith(
        f"DATABASE_URL: cannot connect: nothing accepts connections at 127.0.0.1:{port}"
    )
    assert "`llm-mcp up` needs no DATABASE_URL" in message and "secret" not in message
