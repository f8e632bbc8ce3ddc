"""The `llm-mcp` command: run the services, start everything locally, talk to core."""
