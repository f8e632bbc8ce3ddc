"""The deployment across hosts (network namespaces on this machine): Postgres, two core
replicas, two workers each next to a fake Ollama, a client; partitions, loss, a lost database,
a database restart and a rolling restart of core lose no job and finish none twice.

A short version (few jobs, 3 s leases); `python -m bench.multihost` runs the longer one."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.multihost.lab import unavailable
from testkit.multihost.runner import SCENARIOS, run_lab
from testkit.multihost.scenarios import Row, Sizes, table
from testkit.support import apt_tool

pytestmark = [pytest.mark.slow, pytest.mark.external]


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Row]:
    for tool, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")):
        apt_tool(tool, package)
    if reason := unavailable():
        pytest.skip(reason)
    workdir: Path = tmp_path_factory.mktemp("multihost")
    found, _boot = run_lab(workdir, list(SCENARIOS), sizes=Sizes(jobs=4, routed=2))
    print(table(found))
    return dict(zip(SCENARIOS, found, strict=True))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_nothing_is_lost_or_done_twice(rows: dict[str, Row], name: str) -> None:
    row = rows[name]
    assert row.acknowledged > 0
    assert row.lost == 0, row
    assert row.done_twice == 0, row
    assert row.finished == row.acknowledged, row
    assert row.client_errors == 0, row


def test_the_cut_worker_was_fenced_and_its_late_report_refused(rows: dict[str, Row]) -> None:
    # The scenario waits for exactly this; its recovery time is from link up to the refusal.
    assert rows["worker-cut"].recovery_seconds is not None
    assert "refused" in rows["worker-cut"].note


def test_sse_clients_resumed_on_the_other_replica(rows: dict[str, Row]) -> None:
    for name in ("core-db-cut", "rolling-restart"):
        assert "2/2 SSE clients saw done" in rows[name].note, rows[name]


def test_everyone_recovered_after_the_database_restart(rows: dict[str, Row]) -> None:
    recovery = rows["db-restart"].recovery_seconds
    assert recovery is not None and recovery < 30
