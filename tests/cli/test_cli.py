"""The `llm-mcp` command: a bad setting names the variable and exits with 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bad_config_names_the_variable() -> None:
    env = {"PATH": "/usr/bin:/bin", "HTTP_PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "llm_mcp", "core"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr and "HTTP_PORT" in result.stderr
