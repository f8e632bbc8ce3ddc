"""Telegram telemetry: one live status message (see its issue)."""
