"""What every llm-mcp service process needs, and nothing of any one service: listening
sockets, the HTTP guards, the data directory, serving an ASGI app, watching side tasks.

A leaf: it imports the standard library and third-party packages only.
"""
