"""MCP bridge: an HTTP bridge on :3333 and an MCP server, both calling core over gRPC."""
