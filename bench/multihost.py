"""The multi-host scenarios at length: network namespaces on this machine for Postgres, two core
replicas, two workers (each next to a fake Ollama) and a client.

    sudo .venv/bin/python -m bench.multihost                 # every scenario
    sudo .venv/bin/python -m bench.multihost --jobs 200 --scenario worker-cut --scenario steady

Prints one row per scenario: acknowledged, finished, lost (must be 0), done twice (must be 0),
errors clients saw after retrying (must be 0), recovery seconds, and what clients retried on.
Needs root and iproute2 (nftables for the loss fallback where the kernel has no netem).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from testkit.multihost.fleet import Timing
from testkit.multihost.lab import unavailable
from testkit.multihost.runner import SCENARIOS, run_lab
from testkit.multihost.scenarios import Sizes, as_json, table


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--jobs", type=int, default=40, help="raw jobs per burst")
    parser.add_argument("--routed", type=int, default=20, help="routed requests per burst")
    parser.add_argument("--job-seconds", type=float, default=0.2, help="each raw job's work")
    parser.add_argument("--lease", type=int, default=5, help="WORKER_LEASE_SECONDS")
    parser.add_argument("--concurrency", type=int, default=8, help="WORKER_CONCURRENCY")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    if reason := unavailable():
        print(f"bench.multihost: {reason}", file=sys.stderr)
        return 2
    names = args.scenario or list(SCENARIOS)
    workdir = Path(tempfile.mkdtemp(prefix="llm-mcp-multihost-"))
    before = _uptime()
    try:
        rows, boot = run_lab(
            workdir,
            names,
            sizes=Sizes(jobs=args.jobs, routed=args.routed, job_seconds=args.job_seconds),
            timing=Timing(
                lease_seconds=args.lease, shutdown_grace=10, worker_concurrency=args.concurrency
            ),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"machine: {os.cpu_count()} cores; before: {before}; after: {_uptime()}; "
        f"fleet start {boot:.1f}s; lease {args.lease}s; {args.concurrency} jobs per worker"
    )
    print(table(rows))
    if args.json:
        print(as_json(rows))
    bad = [r for r in rows if r.lost or r.done_twice or r.client_errors]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
