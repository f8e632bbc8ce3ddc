"""The fleet: discovery over a (fake) tailnet, parsing tailscale and Ollama answers, and the
Ollama at OLLAMA_BASE_URL as a device."""
