"""The `llm-mcp` command as a user runs it: `up` (on a laptop, with the bridge, its data dir,
the embedded Postgres), start-up messages and quiet logs."""
