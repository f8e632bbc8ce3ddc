"""The container HEALTHCHECK: `python -m llm_mcp.healthcheck`, no curl needed.

It reads the service from PID 1's command line (the image's entrypoint is `llm-mcp <service>`):
core and the HTTP bridge are probed on their /health; a worker, telemetry or a stdio bridge has
no port, so a running container counts as healthy (it exits when it fails).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path


def health_url(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The /health URL of the service `argv` runs, or None when it has no HTTP port."""
    args = [a for a in argv if not a.startswith("-")]
    service = next((a for a in args if a in {"core", "worker", "bridge", "telemetry", "up"}), None)
    if service in ("core", "up"):
        return f"http://127.0.0.1:{env.get('HTTP_PORT') or '8080'}/health"
    if service == "bridge" and "--stdio" not in argv:
        return f"http://127.0.0.1:{env.get('MCP_PORT') or '3333'}/health"
    return None


def _pid1_argv() -> list[str]:
    try:
        raw = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def main() -> int:
    import os

    url = health_url(sys.argv[1:] or _pid1_argv(), os.environ)
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
