"""MCP bridge: the seed's HTTP bridge on :3333 and a real MCP server (see its issue)."""
