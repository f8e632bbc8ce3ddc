"""Postgres plumbing shared by core's stores: pool, named SQL queries, schema migration."""
