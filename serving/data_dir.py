"""Where llm-mcp keeps its state on this machine (the local Postgres, telemetry's message id)."""

from __future__ import annotations

import os
from pathlib import Path


def default_data_dir() -> Path:
    """LLM_MCP_HOME; else /var/lib/llm-mcp for root, else $XDG_DATA_HOME/llm-mcp."""
    if env := os.environ.get("LLM_MCP_HOME"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/llm-mcp")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llm-mcp"
