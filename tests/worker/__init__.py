"""The worker: claiming and running jobs against a real core, each provider handler end to end,
token streaming, its handler registry and settings."""
