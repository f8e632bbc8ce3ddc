"""Core's gRPC face (package llmmcp.v1, service Core): the same queue service as HTTP."""
