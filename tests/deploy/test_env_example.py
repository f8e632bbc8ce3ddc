"""Every variable the code reads is in .env.example (once, with a comment) and in the docs."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from core.settings import CoreSettings
from mcp_bridge.settings import BridgeSettings
from telemetry.settings import TelemetrySettings
from worker.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "worker", "mcp_bridge", "telemetry", "llm_mcp", "proto", "serving", "db")
SETTINGS: tuple[type[BaseSettings], ...] = (
    CoreSettings,
    WorkerSettings,
    BridgeSettings,
    TelemetrySettings,
)
# Read from the environment but owned by the platform, not by llm-mcp.
PLATFORM_VARIABLES = {"XDG_DATA_HOME"}
# os.environ.get("X"), os.environ["X"], os.getenv("X"), env.get("X") (a passed-down environ).
_ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|os\.environ\[|env\.get)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def settings_variables() -> set[str]:
    names = set()
    for cls in SETTINGS:
        for name, field in cls.model_fields.items():
            alias = field.validation_alias or field.alias
            names.add(str(alias).upper() if isinstance(alias, str) else name.upper())
    return names


def environ_reads() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found.update(_ENV_READ.findall(path.read_text()))
    return found - PLATFORM_VARIABLES


def env_example() -> list[str]:
    return re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)


def test_the_code_reads_variables_we_can_find() -> None:
    # Guards the collectors themselves: a broken regex would make the tests below vacuous.
    assert {"DATABASE_URL", "WORKER_LEASE_SECONDS", "MCP_BRIDGE_TOKEN"} <= settings_variables()
    assert {"LOG_LEVEL", "API_TOKEN", "LLM_MCP_HOME", "CORE_URL"} <= environ_reads()


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    listed = set(env_example())
    missing = sorted((settings_variables() | environ_reads()) - listed)
    assert not missing, f".env.example lacks {missing}"


def test_env_example_lists_each_variable_once_with_a_comment() -> None:
    names = env_example()
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    lines = (ROOT / ".env.example").read_text().splitlines()
    uncommented = []
    for i, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            # The comment is the line above, or above a run of related variables.
            j = i - 1
            while j >= 0 and re.match(r"^[A-Z][A-Z0-9_]*=", lines[j]):
                j -= 1
            if j < 0 or not lines[j].startswith("#"):
                uncommented.append(line)
    assert not uncommented, uncommented


def test_every_variable_is_documented() -> None:
    variables = settings_variables() | environ_reads() | set(env_example())
    for doc in ("doc/README.md", "doc/README.ru.md"):
        text = (ROOT / doc).read_text()
        missing = sorted(v for v in variables if not re.search(rf"\b{v}\b", text))
        assert not missing, f"{doc} does not mention {missing}"
