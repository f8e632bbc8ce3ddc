"""Core does not listen beyond loopback without its tokens, unless the loudly named opt-out
is set, and never when compose publishes its ports beyond this host."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import CoreSettings

DSN = "postgresql://nobody@127.0.0.1:1/none"


def settings(**values: Any) -> CoreSettings:
    return CoreSettings(database_url=DSN, **values)


def test_off_loopback_needs_both_tokens() -> None:
    for host in ({"http_host": "0.0.0.0"}, {"grpc_host": "10.1.2.3"}, {"grpc_host": "::"}):
        with pytest.raises(ValidationError, match="API_TOKEN and WORKER_TOKEN"):
            settings(**host)
        with pytest.raises(ValidationError, match="WORKER_TOKEN"):
            settings(api_token="a", **host)
        assert settings(api_token="a", worker_token="b", **host)
    assert settings(http_host="localhost", grpc_host="127.0.0.2")


def test_the_opt_out_is_void_when_published_beyond_loopback() -> None:
    assert settings(http_host="0.0.0.0", insecure_no_tokens_off_loopback=True)
    assert settings(
        http_host="0.0.0.0", insecure_no_tokens_off_loopback=True, publish_addr="127.0.0.1"
    )
    with pytest.raises(ValidationError, match=r"PUBLISH_ADDR=0\.0\.0\.0 publishes core"):
        settings(http_host="0.0.0.0", insecure_no_tokens_off_loopback=True, publish_addr="0.0.0.0")


@pytest.mark.slow
def test_core_command_refuses_to_start_exposed_without_tokens() -> None:
    env = {**os.environ, "DATABASE_URL": DSN, "HTTP_HOST": "0.0.0.0", "HTTP_PORT": "0"}
    for name in ("API_TOKEN", "WORKER_TOKEN", "INSECURE_NO_TOKENS_OFF_LOOPBACK", "PUBLISH_ADDR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "llm_mcp", "core"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "HTTP_HOST=0.0.0.0 is not a loopback address" in done.stderr
    assert "INSECURE_NO_TOKENS_OFF_LOOPBACK=1" in done.stderr
