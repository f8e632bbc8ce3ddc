"""The multi-host lab: network namespaces as hosts, the deployment spread over them, and the
scenarios run against it (tests/multihost and bench/multihost run them)."""
