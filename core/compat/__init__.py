"""OpenAI- and Ollama-compatible APIs over the routed queue."""
