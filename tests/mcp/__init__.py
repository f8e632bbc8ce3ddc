"""The MCP bridge: its HTTP face, the MCP server (in-process, Streamable HTTP, stdio), who may
talk to it, and an external MCP client."""
