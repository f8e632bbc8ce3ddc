"""Core's HTTP face (FastAPI): thin routers over the queue service."""
