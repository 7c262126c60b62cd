"""What every agent integration shares: the fence that hands recalled
memories to a model as data (fence.py) and the relevance-gated prompt
injection (inject.py). Hooks, the MCP server, OpenClaw and `prime` use these,
never their own copies."""
