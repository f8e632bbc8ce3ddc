"""The test suite, one package per part of llm-mcp: queue, routing, fleet, compat, mcp,
telemetry, dashboard, worker, cli, deploy, security, chaos, multihost (each package's docstring
says what it covers). Fixtures shared by all are in conftest.py; the fakes and helpers that
tests and benchmarks share are in the top-level testkit package."""
