"""SQL lives in `.sql` files read by the stores (`core/db/queries.py`), never in Python strings:
one place to read, review and EXPLAIN every query. An AST scan of every package's string
constants (and f-strings) for ones that begin as an SQL statement."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "worker", "mcp_bridge", "telemetry", "proto", "serving", "llm_mcp", "db")
GENERATED = {"llm_pb2.py", "llm_pb2_grpc.py"}
# "path:line" -> why that string must stay in Python. Empty: nothing has needed it yet.
ALLOWED: dict[str, str] = {}

# A keyword and what must follow it for the text to be a statement rather than prose
# ("Set once…", "LISTEN connection closed", the HTTP method "DELETE"); a lowercase select
# counts with its FROM.
_STATEMENT = re.compile(
    r"""^\s*(?:
        (?-i:SELECT)\s+\S
      | select\s[^\n]*\sfrom\s
      | INSERT\s+INTO\s
      | UPDATE\s+[\w.]+\s+SET\s
      | DELETE\s+FROM\s
      | WITH\s+(?:RECURSIVE\s+)?\w+\s*(?:\([^)]*\)\s*)?AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(
      | (?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+|UNIQUE\s+|TEMP(?:ORARY)?\s+)*
        (?:TABLE|INDEX|VIEW|MATERIALIZED|FUNCTION|TRIGGER|TYPE|SEQUENCE|EXTENSION|SCHEMA|DATABASE)\b
      | (?:UN)?LISTEN\s+[\w"*]+\s*;?\s*$
      | NOTIFY\s+\w+\s*(?:,|;|$)
      | TRUNCATE\s+(?:TABLE\s+)?\w
    )""",
    re.VERBOSE | re.IGNORECASE,
)


def _leading_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def looks_like_sql(text: str) -> bool:
    return _STATEMENT.match(text) is not None


def sql_strings() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name in GENERATED:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                )
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                text = _leading_text(node)
                if text is None or id(node) in docstrings or not looks_like_sql(text):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if where not in ALLOWED:
                    found.append(f"{where}: {text.strip().splitlines()[0][:80]}")
    return found


def test_the_scan_knows_a_statement_from_prose() -> None:
    statements = [
        "SELECT 1",
        "select id from jobs",
        "INSERT INTO jobs (id) VALUES ($1)",
        "UPDATE jobs SET status = 'done'",
        "DELETE FROM jobs WHERE id = $1",
        "WITH picked AS (SELECT id FROM jobs) UPDATE jobs SET x = 1",
        "CREATE TABLE IF NOT EXISTS t (id int)",
        "CREATE UNIQUE INDEX i ON t (id)",
        "ALTER TABLE job_events DISABLE TRIGGER job_events_notify",
        "DROP INDEX IF EXISTS i",
        "LISTEN job_events",
        "NOTIFY job_events, 'x'",
        "TRUNCATE jobs CASCADE",
    ]
    prose = [
        "DELETE",
        "Set once, when the process is told to stop",
        "LISTEN connection closed",
        "select a model",
        "With a different kind or payload",
        "update the device limits file",
        "Create a job",
    ]
    assert [s for s in statements if not looks_like_sql(s)] == []
    assert [s for s in prose if looks_like_sql(s)] == []


def test_no_sql_in_python_strings() -> None:
    found = sql_strings()
    assert found == [], "SQL belongs in a store's .sql file:\n" + "\n".join(found)


def test_every_allowed_string_is_still_there() -> None:
    # An allow-list entry whose string moved or went away would let the next one in unseen.
    stale = []
    for where in ALLOWED:
        path, line = where.rsplit(":", 1)
        tree = ast.parse((ROOT / path).read_text())
        if not any(
            getattr(n, "lineno", None) == int(line) and looks_like_sql(_leading_text(n) or "")
            for n in ast.walk(tree)
        ):
            stale.append(where)
    assert stale == []
