"""Telemetry's pure parts: snapshot → message text, alert decisions, Telegram error reading."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telemetry.alerts import AlertConfig, AlertState, decide_alerts, fail_streak
from telemetry.render import TELEGRAM_LIMIT, age, render_status
from telemetry.transport import FloodWait, MessageGone, MessageNotModified, Rejected, classify


def snapshot(**overrides: Any) -> dict[str, Any]:
    snap: dict[str, Any] = {
        "generated_at": "2026-11-24T10:00:00+00:00",
        "jobs": {"queued": 2, "running": 1, "done": 40, "error": 3, "canceled": 0},
        "throughput": {"window_seconds": 60, "finished": 6, "done": 5, "error": 1, "canceled": 0},
        "oldest_queued_seconds": 125.0,
        "running": [
            {
                "id": "5f1c2a9e-0000-4000-8000-000000000001",
                "kind": "ollama.generate",
                "device_id": "gpu.ts.net.",
                "worker_id": "w-1",
                "running_seconds": 12.4,
            }
        ],
        "devices": [
            {"id": "gpu.ts.net.", "name": "gpu", "online": True, "running": 1, "limit": 2},
            {
                "id": "nas.ts.net.",
                "name": "nas",
                "online": False,
                "running": 0,
                "limit": 2,
                "offline_reason": "connection refused",
                "offline_at": "2026-11-24T09:58:00+00:00",
            },
        ],
        "benchmarks": [
            {"device_id": "gpu.ts.net.", "model": "llama3.2:3b", "tps": 42.5, "latency_ms": 120}
        ],
        "workers": [{"id": "w-1", "running": 1}],
        "recent_outcomes": {},
    }
    snap.update(overrides)
    return snap


def test_status_shows_queue_running_devices_benchmarks_workers() -> None:
    text = render_status(snapshot())
    assert "queued 2 (oldest 2m05s)  running 1" in text
    assert "last hour: 40 done, 3 error, 0 canceled" in text
    assert "last min: 5 done, 1 error" in text
    assert "5f1c2a9e ollama.generate gpu.ts.net. w-1 12s" in text
    assert "● gpu 1/2" in text
    assert "○ nas offline since 09:58:00 UTC (connection refused)" in text
    assert "llama3.2:3b 42.5 t/s 120 ms" in text
    assert "<b>Workers 1 online</b>" in text
    assert text.count("<pre>") == text.count("</pre>")


def test_names_are_html_escaped() -> None:
    snap = snapshot(
        devices=[{"id": "x", "name": "<b>evil</b> & co", "online": True, "running": 0, "limit": 1}],
        benchmarks=[{"device_id": "x", "model": "m<1>", "tps": 1.0, "latency_ms": 1.0}],
    )
    text = render_status(snap)
    assert "&lt;b&gt;evil&lt;/b&gt; &amp; co" in text
    assert "m&lt;1&gt;" in text
    assert "<b>evil</b>" not in text


def test_long_status_fits_4096_by_dropping_least_important_lines() -> None:
    devices = [
        {"id": f"d{i}", "name": f"device-{i:03d}", "online": i % 2 == 0, "running": 0, "limit": 1}
        for i in range(200)
    ]
    running = [
        {
            "id": f"j{i}",
            "kind": "ollama.generate",
            "device_id": f"d{i}",
            "worker_id": "w",
            "running_seconds": i,
        }
        for i in range(50)
    ]
    benchmarks = [
        {"device_id": f"d{i}", "model": f"model-{i}", "tps": 10.0, "latency_ms": 5.0}
        for i in range(50)
    ]
    text = render_status(snapshot(devices=devices, running=running, benchmarks=benchmarks))
    assert len(text) <= TELEGRAM_LIMIT
    assert "lines left out" in text
    assert "queued 2" in text  # the queue is never dropped
    assert "model-0 " not in text  # benchmarks go first...
    assert "ollama.generate" not in text  # ...then workers and running jobs...
    assert "● device-198" not in text  # ...then online devices...
    assert "○ device-001 offline" in text  # ...offline devices stay longest
    assert text.count("<pre>") == text.count("</pre>")


def test_core_down_says_since_when_and_keeps_the_last_state() -> None:
    since = datetime(2026, 11, 24, 10, 5, 7, tzinfo=UTC)
    text = render_status(snapshot(), core_down_since=since, core_error="connection <refused>")
    assert text.startswith("⚠️ <b>core unreachable</b> since 10:05:07 UTC")
    assert "connection &lt;refused&gt;" in text
    assert "last known state, 10:00:00 UTC" in text
    assert "core unreachable" in render_status(None, core_down_since=since)


def test_age_format() -> None:
    assert [age(5), age(125), age(7380), age(90000), age(None)] == [
        "5s",
        "2m05s",
        "2h03m",
        "1d01h",
        "-",
    ]


def _devices(online: bool) -> dict[str, Any]:
    return snapshot(
        devices=[{"id": "nas", "name": "nas", "online": online, "offline_reason": "timeout"}]
    )


def test_device_alerts_fire_once_per_transition() -> None:
    config = AlertConfig(stuck_seconds=60, fail_streak=3, cooldown_seconds=600)
    state = AlertState()
    alerts, state = decide_alerts(None, _devices(True), state, now=0, config=config)
    assert alerts == []  # the first snapshot is the baseline
    alerts, state = decide_alerts(_devices(True), _devices(False), state, now=1, config=config)
    assert [a.text for a in alerts] == ["🔴 device <b>nas</b> went offline (timeout)"]
    alerts, state = decide_alerts(_devices(False), _devices(False), state, now=2, config=config)
    assert alerts == []
    alerts, state = decide_alerts(_devices(False), _devices(True), state, now=3, config=config)
    assert [a.text for a in alerts] == ["🟢 device <b>nas</b> is back online"]
    # Flapping inside the cool-down stays quiet, and so does its "back online".
    alerts, state = decide_alerts(_devices(True), _devices(False), state, now=4, config=config)
    assert alerts == []
    alerts, state = decide_alerts(_devices(False), _devices(True), state, now=5, config=config)
    assert alerts == []
    alerts, state = decide_alerts(_devices(True), _devices(False), state, now=700, config=config)
    assert len(alerts) == 1


def test_stuck_queue_alert_after_the_threshold_then_recovery() -> None:
    config = AlertConfig(stuck_seconds=60, fail_streak=3, cooldown_seconds=0)
    stuck = snapshot(jobs={"queued": 4, "running": 0}, running=[])
    moving = snapshot()
    state = AlertState()
    alerts, state = decide_alerts(None, stuck, state, now=0, config=config)
    assert alerts == []
    alerts, state = decide_alerts(stuck, stuck, state, now=59, config=config)
    assert alerts == []
    alerts, state = decide_alerts(stuck, stuck, state, now=61, config=config)
    assert [a.key for a in alerts] == ["queue_stuck"]
    assert "4 queued, nothing running for 1m01s" in alerts[0].text
    alerts, state = decide_alerts(stuck, stuck, state, now=200, config=config)
    assert alerts == []
    alerts, state = decide_alerts(stuck, moving, state, now=201, config=config)
    assert [a.key for a in alerts] == ["queue_moving"]


def test_fail_streak_alert_once_until_the_kind_recovers() -> None:
    config = AlertConfig(stuck_seconds=60, fail_streak=3, cooldown_seconds=0)

    def outcomes(*statuses: str) -> dict[str, Any]:
        return snapshot(
            recent_outcomes={"openai.chat": {"statuses": list(statuses), "last_error": "401 <x>"}}
        )

    state = AlertState()
    alerts, state = decide_alerts(
        None, outcomes("error", "error", "done"), state, now=0, config=config
    )
    assert alerts == []
    alerts, state = decide_alerts(
        None, outcomes("error", "error", "error", "done"), state, now=1, config=config
    )
    assert [a.key for a in alerts] == ["fail_streak:openai.chat"]
    assert "failed 3 times in a row" in alerts[0].text and "401 &lt;x&gt;" in alerts[0].text
    alerts, state = decide_alerts(None, outcomes(*["error"] * 5), state, now=2, config=config)
    assert alerts == []
    alerts, state = decide_alerts(
        None, outcomes("done", *["error"] * 5), state, now=3, config=config
    )
    assert alerts == []
    alerts, state = decide_alerts(
        None, outcomes(*["error"] * 3, "done"), state, now=4, config=config
    )
    assert len(alerts) == 1
    assert fail_streak(["error", "error", "done", "error"]) == 2


def test_telegram_errors_are_told_apart() -> None:
    assert isinstance(classify("Bad Request: message is not modified: same"), MessageNotModified)
    assert isinstance(classify("Bad Request: message to edit not found"), MessageGone)
    assert isinstance(classify("Bad Request: message can't be edited"), MessageGone)
    flood = classify("Too Many Requests: retry after 7")
    assert isinstance(flood, FloodWait) and flood.retry_after == 7
    assert isinstance(classify("Bad Request: can't parse entities"), Rejected)
