"""The drop-in APIs (OpenAI, Ollama, Anthropic, Responses) with the official clients
unchanged, and their translations as plain functions."""
