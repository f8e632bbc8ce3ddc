"""Snapshot → the status message's HTML. Pure functions, no I/O.

The message is compact HTML (`<b>` titles, `<pre>` blocks); every name from
the fleet is clipped, then escaped. It never exceeds Telegram's 4096
characters: when it would, the least important lines go first (benchmarks,
then workers, then running jobs, then devices) and the message says so.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TELEGRAM_LIMIT = 4096

# How much a line matters; the lowest go first when the message is too long.
HEADER, DEVICE_ONLINE, DEVICE_OFFLINE, RUNNING, WORKER, BENCHMARK = 100, 60, 65, 50, 30, 20


@dataclass
class Section:
    title: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (importance, escaped text)


def esc(value: object, width: int = 40) -> str:
    """Clips to `width` characters, then escapes for Telegram HTML."""
    text = "" if value is None else str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return html.escape(text, quote=False)


def age(seconds: float | None) -> str:
    """42s, 3m05s, 2h03m, 1d02h."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def clock(value: datetime | str | None) -> str:
    """HH:MM:SS UTC of a datetime or ISO string."""
    if value is None:
        return "?"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return esc(value, 32)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%H:%M:%S UTC")


def _queue(snap: dict[str, Any]) -> Section:
    jobs = snap.get("jobs", {})
    tp = snap.get("throughput", {})
    oldest = snap.get("oldest_queued_seconds")
    waiting = f" (oldest {age(oldest)})" if jobs.get("queued") and oldest is not None else ""
    lines = [
        f"queued {jobs.get('queued', 0)}{waiting}  running {jobs.get('running', 0)}",
        f"last hour: {jobs.get('done', 0)} done, {jobs.get('error', 0)} error, "
        f"{jobs.get('canceled', 0)} canceled",
        f"last min: {tp.get('done', 0)} done, {tp.get('error', 0)} error",
    ]
    return Section("Queue", [(HEADER, line) for line in lines])


def _running(snap: dict[str, Any]) -> Section:
    jobs = snap.get("running", [])
    total = snap.get("jobs", {}).get("running", len(jobs))
    lines = [
        (
            RUNNING,
            f"{esc(str(j.get('id', ''))[:8], 8)} {esc(j.get('kind'), 24)} "
            f"{esc(j.get('device_id') or '-', 24)} "
            f"{esc(j.get('worker_id') or '-', 16)} {age(j.get('running_seconds'))}",
        )
        for j in jobs
    ]
    if total > len(jobs):
        lines.append((RUNNING, f"… and {total - len(jobs)} more"))
    return Section(f"Running ({total})", lines)


def _devices(snap: dict[str, Any]) -> Section:
    devices = snap.get("devices", [])
    online = sum(1 for d in devices if d.get("online"))
    lines = []
    for d in devices:
        name = esc(d.get("name") or d.get("id"), 28)
        if d.get("online"):
            lines.append((DEVICE_ONLINE, f"● {name} {d.get('running', 0)}/{d.get('limit', 1)}"))
        else:
            since = f" since {clock(d['offline_at'])}" if d.get("offline_at") else ""
            reason = f" ({esc(d['offline_reason'], 32)})" if d.get("offline_reason") else ""
            lines.append((DEVICE_OFFLINE, f"○ {name} offline{since}{reason}"))
    return Section(f"Devices {online}/{len(devices)} online", lines)


def _benchmarks(snap: dict[str, Any]) -> Section:
    lines = []
    for b in snap.get("benchmarks", []):
        tps = f"{b['tps']:.1f} t/s" if b.get("tps") is not None else "-"
        latency = f"{b['latency_ms']:.0f} ms" if b.get("latency_ms") is not None else "-"
        mark = "" if b.get("ok", True) else " ✗"
        lines.append(
            (
                BENCHMARK,
                f"{esc(b.get('device_id') or '-', 20)} {esc(b.get('model'), 28)} "
                f"{tps} {latency}{mark}",
            )
        )
    return Section("Benchmarks (latest)", lines)


def _workers(snap: dict[str, Any]) -> Section:
    workers = snap.get("workers", [])
    lines = [(WORKER, f"{esc(w.get('id'), 32)} running {w.get('running', 0)}") for w in workers]
    return Section(f"Workers {len(workers)} online", lines)


def _compose(head: list[str], sections: list[Section], dropped: int) -> str:
    parts = list(head)
    for section in sections:
        parts.append(f"<b>{section.title}</b>")
        if section.lines:
            body = "\n".join(text for _, text in section.lines)
            parts.append(f"<pre>{body}</pre>")
    if dropped:
        parts.append(f"<i>… {dropped} lines left out (Telegram's {TELEGRAM_LIMIT} limit)</i>")
    return "\n".join(parts)


def fit(head: list[str], sections: list[Section], limit: int = TELEGRAM_LIMIT) -> str:
    """Composes the message, dropping the least important lines (the later ones first) to fit."""
    text = _compose(head, sections, 0)
    if len(text) <= limit:
        return text
    drop_order = sorted(
        (importance, -line_idx, s_idx, line_idx)
        for s_idx, section in enumerate(sections)
        for line_idx, (importance, _) in enumerate(section.lines)
    )
    dropped: set[tuple[int, int]] = set()
    for _importance, _, s_idx, line_idx in drop_order:
        dropped.add((s_idx, line_idx))
        trimmed = [
            Section(s.title, [ln for i, ln in enumerate(s.lines) if (k, i) not in dropped])
            for k, s in enumerate(sections)
        ]
        text = _compose(head, trimmed, len(dropped))
        if len(text) <= limit:
            return text
    # Only titles are left and still too long (not reachable with real data).
    return "<b>llm-mcp</b>: the status does not fit in one message"


def render_status(
    snapshot: dict[str, Any] | None,
    *,
    core_down_since: datetime | None = None,
    core_error: str | None = None,
    limit: int = TELEGRAM_LIMIT,
) -> str:
    """The status message. With `core_down_since`, a warning leads and the snapshot (if any) is
    shown as the last known state."""
    head = ["<b>llm-mcp</b> fleet"]
    if core_down_since is not None:
        head = [f"⚠️ <b>core unreachable</b> since {clock(core_down_since)}"]
        if core_error:
            head.append(f"<pre>{esc(core_error, 200)}</pre>")
        if snapshot is None:
            return fit(head, [], limit)
        head.append(f"<i>last known state, {clock(snapshot.get('generated_at'))}:</i>")
    if snapshot is None:
        return fit([*head, "<i>waiting for core…</i>"], [], limit)
    sections = [_queue(snapshot), _devices(snapshot), _running(snapshot)]
    sections += [_workers(snapshot), _benchmarks(snapshot)]
    return fit(head, sections, limit)
