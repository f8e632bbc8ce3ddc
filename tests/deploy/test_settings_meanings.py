"""What `.env.example` says an empty or 0 value means is what the code does, for every such
setting: the file is read, each documented meaning found, and each one checked."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from core.auth import client_token, worker_token
from core.fleet.tailscale import read_status
from core.settings import CoreSettings
from llm_mcp.pgcluster import find_bin_dir
from mcp_bridge.settings import LOOPBACK_HOSTS, LOOPBACK_ORIGINS, BridgeSettings
from serving.data_dir import default_data_dir
from telemetry.settings import DEFAULT_GATEWAY_URL, TelemetrySettings
from testkit.fakes.tailnet import FAKE_TAILSCALE, node, status
from worker.handlers.registry import default_handlers, select_handlers
from worker.settings import WorkerSettings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
# "empty = …", "0 = …", "1 = …" (so 0 is off) and "(default: …)" give a value a meaning.
MEANING = re.compile(r"(?<![\w.])(empty|[01])\s*=|\(default\b")
DB = "postgresql://u@127.0.0.1:1/db"


def documented_meanings() -> dict[str, str]:
    """Variable -> its comment, for every variable whose comment gives a value a meaning."""
    found: dict[str, str] = {}
    comment: list[str] = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("# "))
        elif "=" in line:
            name = line.split("=", 1)[0].strip()
            text = " ".join(comment)
            if MEANING.search(text):
                found[name] = text
            comment = []
        else:
            comment = []
    return found


Check = Callable[[pytest.MonkeyPatch, Path], object]


def _api_token(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("API_TOKEN", "")
    assert client_token(CoreSettings(database_url=DB)) is None  # no auth


def _worker_token(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("API_TOKEN", "client-secret")
    mp.setenv("WORKER_TOKEN", "")
    assert worker_token(CoreSettings(database_url=DB)) == "client-secret"
    assert WorkerSettings().token == "client-secret"


async def _tailscale_socket(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    mp.setenv("TAILSCALE_SOCKET", "")
    mp.setenv("TAILSCALE_BIN", str(FAKE_TAILSCALE))
    doc = tmp / "status.json"
    doc.write_text(json.dumps(status(node("box", "127.0.0.2", dns_name="box.ts.net."), [])))
    mp.setenv("FAKE_TAILSCALE_STATUS", str(doc))
    mp.setenv("FAKE_TAILSCALE_ARGV_LOG", str(tmp / "argv.log"))
    settings = CoreSettings(database_url=DB)
    await read_status(settings.tailscale_bin, settings.tailscale_socket_path, limit_seconds=30)
    # The CLI ran without --socket: it picks its own default.
    assert json.loads((tmp / "argv.log").read_text()) == ["status", "--json"]


def _discovery_interval(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("DISCOVERY_INTERVAL", "0")
    assert CoreSettings(database_url=DB).discovery_interval == 0  # core starts no loop at 0


def _worker_id(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("WORKER_ID", "")
    assert WorkerSettings().worker_id == socket.gethostname()


def _worker_kinds(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("WORKER_KINDS", "")
    settings = WorkerSettings()
    every = default_handlers(settings)
    assert select_handlers(every, settings.worker_kinds).keys() == every.keys()


def _telegram_gateway_url(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_MCP_BASE_URL", "")
    settings = TelemetrySettings()
    assert settings.gateway_url == DEFAULT_GATEWAY_URL
    assert not settings.gateway_url_explicit  # so the one compat retry applies


def _telegram_bot_id(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_MCP_BOT_ID", "")
    assert TelemetrySettings().telegram_mcp_bot_id is None  # not sent: the gateway's default


def _telegram_gateway_chat(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_MCP_CHAT_ID", "")
    mp.setenv("TELEGRAM_CHAT_ID", "@fleet")
    assert TelemetrySettings().gateway_chat_id == "@fleet"


def _telegram_state_file(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    mp.setenv("TELEGRAM_STATE_FILE", "")
    mp.setenv("LLM_MCP_HOME", str(tmp))
    assert TelemetrySettings().telegram_state_file == tmp / "telemetry-state.json"


def _telegram_alerts(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_ALERTS", "0")
    assert TelemetrySettings().telegram_alerts is False


def _telegram_use_mcp(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_USE_MCP", "0")
    assert TelemetrySettings().telegram_use_mcp is False


def _telegram_fallback(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("TELEGRAM_USE_MCP", "1")
    mp.setenv("TELEGRAM_CHAT_ID", "@fleet")
    mp.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    mp.setenv("TELEGRAM_MCP_FALLBACK_DIRECT", "0")
    assert TelemetrySettings().direct_configured is False


def _bridge_token(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("MCP_BRIDGE_TOKEN", "")
    assert BridgeSettings().bridge_token is None


def _allowed_hosts(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("MCP_ALLOWED_HOSTS", "")
    assert set(LOOPBACK_HOSTS) <= set(BridgeSettings().host_allow_list())
    mp.setenv("MCP_HOST", "127.0.0.42")  # "and the loopback MCP_HOST itself"
    assert "127.0.0.42:*" in BridgeSettings().host_allow_list()


def _allowed_origins(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("MCP_ALLOWED_ORIGINS", "")
    assert BridgeSettings().origin_allow_list() == LOOPBACK_ORIGINS
    mp.setenv("MCP_HOST", "127.0.0.42")
    assert BridgeSettings().origin_allow_list() == [*LOOPBACK_ORIGINS, "http://127.0.0.42:*"]


def _data_dir(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    mp.setenv("LLM_MCP_HOME", "")
    mp.setenv("XDG_DATA_HOME", str(tmp))
    expected = Path("/var/lib/llm-mcp") if _is_root() else tmp / "llm-mcp"
    assert default_data_dir() == expected


def _pg_bin_dir(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("PG_BIN_DIR", "")
    assert (find_bin_dir() / "postgres").exists()


def _limits_interval(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("DEVICE_LIMITS_INTERVAL", "0")
    assert CoreSettings(database_url=DB).device_limits_interval == 0  # no re-apply loop


def _strict_limits(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("STRICT_MODEL_LIMITS", "0")
    assert CoreSettings(database_url=DB).strict_model_limits is False


def _cors_origins(mp: pytest.MonkeyPatch, _tmp: Path) -> None:
    mp.setenv("CORS_ALLOWED_ORIGINS", "")
    assert CoreSettings(database_url=DB).cors_allowed_origins == []  # no web origin may call
    mp.setenv("CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    allowed = CoreSettings(database_url=DB).cors_allowed_origins
    assert allowed == ["https://a.example", "https://b.example"]


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


CHECKS: dict[str, Check] = {
    "API_TOKEN": _api_token,
    "WORKER_TOKEN": _worker_token,
    "TAILSCALE_SOCKET": _tailscale_socket,
    "DISCOVERY_INTERVAL": _discovery_interval,
    "WORKER_ID": _worker_id,
    "WORKER_KINDS": _worker_kinds,
    "TELEGRAM_USE_MCP": _telegram_use_mcp,
    "TELEGRAM_MCP_BASE_URL": _telegram_gateway_url,
    "TELEGRAM_MCP_BOT_ID": _telegram_bot_id,
    "TELEGRAM_MCP_CHAT_ID": _telegram_gateway_chat,
    "TELEGRAM_MCP_FALLBACK_DIRECT": _telegram_fallback,
    "TELEGRAM_STATE_FILE": _telegram_state_file,
    "TELEGRAM_ALERTS": _telegram_alerts,
    "MCP_BRIDGE_TOKEN": _bridge_token,
    "MCP_ALLOWED_HOSTS": _allowed_hosts,
    "MCP_ALLOWED_ORIGINS": _allowed_origins,
    "LLM_MCP_HOME": _data_dir,
    "PG_BIN_DIR": _pg_bin_dir,
    "DEVICE_LIMITS_INTERVAL": _limits_interval,
    "STRICT_MODEL_LIMITS": _strict_limits,
    "CORS_ALLOWED_ORIGINS": _cors_origins,
}


def test_every_documented_meaning_has_a_check() -> None:
    documented = documented_meanings()
    assert documented.keys() == CHECKS.keys(), (
        f"documented but unchecked: {sorted(documented.keys() - CHECKS.keys())}; "
        f"checked but no longer documented: {sorted(CHECKS.keys() - documented.keys())}"
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """None of .env.example's variables set; the directory has no .env."""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            monkeypatch.delenv(line.split("=", 1)[0].strip(), raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("name", sorted(CHECKS))
async def test_documented_meaning_holds(
    name: str, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outcome = CHECKS[name](clean_env, tmp_path)
    if hasattr(outcome, "__await__"):
        await outcome  # type: ignore[misc]
