"""Aligned plain-text tables for the CLI that stay tables: every cell is one line, cut to a
bound, so one long value (an error, an offline reason) cannot push the rows apart."""

from __future__ import annotations

from collections.abc import Sequence


def fit(text: str, width: int) -> str:
    """`text` on one line, at most `width` characters (cut with an ellipsis)."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def render_table(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, max_width: int = 40
) -> list[str]:
    """Header and rows, columns two spaces apart; the last column unpadded. Each cell is cut
    to `max_width` characters."""
    cells = [[fit(c, max_width) for c in row] for row in [columns, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)), r[-1]]).rstrip()
        for r in cells
    ]
