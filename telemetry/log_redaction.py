"""Keeps the bot token out of logs: httpx logs every request URL at INFO and
python-telegram-bot logs its API URL at DEBUG, and both URLs contain the token."""

from __future__ import annotations

import logging

# Loggers that write URLs with the token in them (filters apply to records logged there).
LOGGERS = ("httpx", "httpcore", "telegram.Bot", "telegram.request", "telegram.ext")
REDACTED = "[redacted]"


class SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = message
        for secret in self.secrets:
            hidden = hidden.replace(secret, REDACTED)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_FILTER = SecretFilter()


def hide_in_logs(secret: str) -> None:
    """From now on, `secret` is replaced by [redacted] in those loggers' records."""
    if not secret:
        return
    _FILTER.secrets.add(secret)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
