"""Starts or stops the lab's Postgres from inside its host (so it listens on that host's address):
`python -m testkit.multihost.pg_host start|stop DATA_DIR HOST PORT TRUSTED_NETWORK`."""

from __future__ import annotations

import sys
from pathlib import Path

from llm_mcp.pgcluster import LocalPostgres


def main(action: str, data_dir: str, host: str, port: str, network: str) -> None:
    cluster = LocalPostgres(
        Path(data_dir), host=host, port=int(port), trusted_network=network, prefer_system=True
    )
    if action == "start":
        print(cluster.start())
    else:
        cluster.stop(mode="fast")


if __name__ == "__main__":
    main(*sys.argv[1:6])
