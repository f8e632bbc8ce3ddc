"""Model pricing and what finished jobs cost."""
