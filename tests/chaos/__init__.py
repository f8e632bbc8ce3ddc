"""Bounded chaos: real core and worker processes, faults injected, nothing lost or done twice."""
