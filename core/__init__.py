"""llm-mcp core: the queue, its HTTP and gRPC faces, and everything that talks to Postgres."""
