"""Routing: which device or cloud provider a request goes to (rules, limits, late binding,
circuit breakers, failover, the cloud fallback), and device limits from settings."""
