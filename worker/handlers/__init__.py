"""Job handlers: one module per family of job kinds, collected in a registry."""
