"""llm-mcp worker: claims jobs from core over gRPC and runs their handlers."""
