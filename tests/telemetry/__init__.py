"""The telemetry service: the Telegram status message, alerts, and `llm-mcp telemetry`."""
