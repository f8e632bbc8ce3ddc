"""Job events: one LISTEN connection per core process, fanned out to streams and claimers."""
