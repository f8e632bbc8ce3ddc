"""Log set-up for every llm-mcp process: one line per record, job fields appended as key=value."""

from __future__ import annotations

import json
import logging
import os

_CONTEXT_FIELDS = ("job_id", "worker_id", "device_id", "kind", "provider", "model")


class ContextFormatter(logging.Formatter):
    """`time level logger: message job_id=… worker_id=…` (or JSON with LOG_FORMAT=json)."""

    def __init__(self, *, as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        context = {k: getattr(record, k) for k in _CONTEXT_FIELDS if getattr(record, k, None)}
        if self.as_json:
            entry = {
                "ts": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
                **context,
            }
            if record.exc_info:
                entry["exc"] = self.formatException(record.exc_info)
            return json.dumps(entry, default=str)
        line = super().format(record)
        if context:
            line += " " + " ".join(f"{k}={v}" for k, v in context.items())
        return line


def setup_logging(service: str) -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler()
    handler.setFormatter(ContextFormatter(as_json=os.environ.get("LOG_FORMAT") == "json"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request at INFO (each provider call and probe); that is debugging
    # detail, shown with LOG_LEVEL=DEBUG only.
    quiet = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(quiet)
    logging.getLogger(service).setLevel(level)
