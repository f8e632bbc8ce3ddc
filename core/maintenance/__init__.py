"""Background maintenance loops, one per module, each with run_once() and run()."""
