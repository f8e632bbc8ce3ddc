"""One fake per provider, each a real HTTP server on a loopback address speaking its wire format:
Ollama (ollama), OpenAI and OpenRouter (openai), Telegram and the telegram-mcp gateway
(telegram), the tailscale CLI (tailnet); what they share lives in server."""
