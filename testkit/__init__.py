"""The harness shared by tests/ and bench/: one fake per provider (testkit.fakes), core and
workers in the test's event loop (support), the fleet's rows and a fake tailnet (fleet), the
compatible-API fleet (compat), the MCP bridge (bridge), server-sent-event readers (sse), chaos
processes (chaos, chaos_worker) and the multi-host lab (multihost).

Not installed with the package: it runs from a checkout, as the tests and benchmarks do."""
