"""The fleet: Tailscale discovery, Ollama probes, devices, the model catalog, device metrics."""
