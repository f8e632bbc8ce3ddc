from llm_mcp.cli import main

main()
