"""Alert decisions over consecutive snapshots. Pure functions, no I/O.

Alerts are separate messages (edits notify nobody): a device went offline /
came back, the queue is stuck (jobs queued, nothing running, for a while), a
job kind failed N times in a row. Each fires once per transition; a key that
fired within the cool-down stays quiet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from telemetry.render import age, esc


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    text: str  # Telegram HTML


@dataclass(frozen=True, slots=True)
class AlertConfig:
    stuck_seconds: float = 300.0
    fail_streak: int = 3
    cooldown_seconds: float = 900.0


@dataclass(frozen=True, slots=True)
class AlertState:
    offline_announced: frozenset[str] = frozenset()
    stuck_since: float | None = None
    stuck_announced: bool = False
    failing_kinds: frozenset[str] = frozenset()
    last_fired: Mapping[str, float] = field(default_factory=dict)


def fail_streak(statuses: list[str]) -> int:
    """How many of the newest outcomes in a row are errors."""
    streak = 0
    for status in statuses:
        if status != "error":
            break
        streak += 1
    return streak


def _devices(snapshot: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {d["id"]: d for d in (snapshot or {}).get("devices", [])}


def decide_alerts(
    previous: dict[str, Any] | None,
    current: dict[str, Any],
    state: AlertState,
    *,
    now: float,
    config: AlertConfig,
) -> tuple[list[Alert], AlertState]:
    """The alerts to send for the step previous → current, and the state for the next step.

    `now` is any monotonic clock in seconds; the first snapshot (previous=None) only sets the
    baseline for device transitions.
    """
    alerts: list[Alert] = []
    fired = dict(state.last_fired)

    def fire(key: str, text: str, *, cooled: bool = True) -> bool:
        if cooled and now - fired.get(key, float("-inf")) < config.cooldown_seconds:
            return False
        fired[key] = now
        alerts.append(Alert(key, text))
        return True

    announced = set(state.offline_announced)
    if previous is not None:
        before = _devices(previous)
        for device_id, device in _devices(current).items():
            was = before.get(device_id)
            if was is None:
                continue
            name = esc(device.get("name") or device_id)
            if was.get("online") and not device.get("online"):
                reason = device.get("offline_reason")
                why = f" ({esc(reason, 80)})" if reason else ""
                if fire(
                    f"device_offline:{device_id}", f"🔴 device <b>{name}</b> went offline{why}"
                ):
                    announced.add(device_id)
            elif not was.get("online") and device.get("online") and device_id in announced:
                fire(
                    f"device_online:{device_id}",
                    f"🟢 device <b>{name}</b> is back online",
                    cooled=False,
                )
                announced.discard(device_id)

    jobs = current.get("jobs", {})
    stuck_since, stuck_announced = state.stuck_since, state.stuck_announced
    if jobs.get("queued", 0) > 0 and jobs.get("running", 0) == 0:
        stuck_since = now if stuck_since is None else stuck_since
        if not stuck_announced and now - stuck_since >= config.stuck_seconds:
            oldest = current.get("oldest_queued_seconds")
            stuck_announced = fire(
                "queue_stuck",
                f"⏸ queue stuck: {jobs['queued']} queued, nothing running for "
                f"{age(now - stuck_since)} (oldest waiting {age(oldest)})",
            )
    else:
        if stuck_announced:
            fire("queue_moving", "▶️ queue is moving again", cooled=False)
        stuck_since, stuck_announced = None, False

    failing = set()
    for kind, outcome in sorted(current.get("recent_outcomes", {}).items()):
        streak = fail_streak(outcome.get("statuses", []))
        if streak < config.fail_streak:
            continue
        failing.add(kind)
        if kind not in state.failing_kinds:
            error = outcome.get("last_error")
            detail = f"\n<pre>{esc(error, 300)}</pre>" if error else ""
            fire(
                f"fail_streak:{kind}",
                f"❗ <b>{esc(kind)}</b> failed {streak} times in a row{detail}",
            )

    next_state = replace(
        state,
        offline_announced=frozenset(announced),
        stuck_since=stuck_since,
        stuck_announced=stuck_announced,
        failing_kinds=frozenset(failing),
        last_fired=fired,
    )
    return alerts, next_state
