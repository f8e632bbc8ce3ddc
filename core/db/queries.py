"""Loads named SQL queries from `.sql` files.

A file holds queries under headers: `-- name: job_claim` on a line of its own,
then an optional `-- ` description line, then the statement. Names read
`<entity>_<verb>[_<qualifier>]`.
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.M)


def load_queries(path: Path) -> dict[str, str]:
    """{name: sql} for every named query in the file; ValueError on a repeated name."""
    text = path.read_text()
    queries: dict[str, str] = {}
    parts = _HEADER.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{path.name}: query {name!r} is defined twice")
        sql = body.strip()
        if not sql:
            raise ValueError(f"{path.name}: query {name!r} is empty")
        queries[name] = sql
    return queries
