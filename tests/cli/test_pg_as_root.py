"""As root, the embedded Postgres runs as a system user; what that changes on the machine is
the least it needs (search permission only, only where missing) and is reported."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest

from llm_mcp.pgcluster import PG_SYSTEM_USER, LocalPostgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="what root does; non-root changes nothing"),
]


def test_as_root_only_search_permission_is_added_and_reported(tmp_path: Path) -> None:
    private = tmp_path / "private"  # like /root: nobody else may enter
    private.mkdir(mode=0o700)
    cluster = LocalPostgres(private / "llm-mcp" / "postgres", fsync=False, prefer_system=True)
    try:
        cluster.start()
        assert private in cluster.widened
        mode = stat.S_IMODE(private.stat().st_mode)
        assert mode == 0o701, oct(mode)  # o+x to pass through, never o+r to list
        owner = cluster.data_dir.stat().st_uid
        assert pwd.getpwuid(owner).pw_name == PG_SYSTEM_USER
        assert stat.S_IMODE(cluster.data_dir.stat().st_mode) == 0o700
    finally:
        cluster.stop(mode="immediate")
