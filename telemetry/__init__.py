"""Telegram telemetry: one status message kept edited with the fleet's state, and alerts."""
