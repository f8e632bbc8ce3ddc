"""The status snapshot: what GET /v1/dashboard and the GetStatus RPC answer."""
