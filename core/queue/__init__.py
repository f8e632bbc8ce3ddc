"""The durable job queue: store (SQL), service (rules), maintenance loops."""
