"""The durable queue: submit, claim, complete, fail, retry, cancel, idempotency, batches,
wake-ups, concurrent claimers, job streams (SSE and gRPC) and a replica's graceful stop."""
