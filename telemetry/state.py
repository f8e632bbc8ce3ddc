"""Where the status message's id lives between restarts: a small JSON state file.

A file (TELEGRAM_STATE_FILE) rather than core's database: telemetry stays a pure
gRPC client of core with no new RPC, and the id is only meaningful to this
telemetry process and its chat. Written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MessageRef:
    chat: str  # which chat (and route) the id belongs to
    message_id: str


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, chat: str) -> str | None:
        """The saved message id for `chat`, or None (missing, unreadable, or another chat)."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring telemetry state file %s: %s", self.path, exc)
            return None
        if not isinstance(data, dict) or data.get("chat") != chat or not data.get("message_id"):
            return None
        return str(data["message_id"])

    def save(self, ref: MessageRef) -> None:
        """Best effort: a failed write is logged, and the next restart sends a new message."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"chat": ref.chat, "message_id": ref.message_id}))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot write telemetry state file %s: %s", self.path, exc)
