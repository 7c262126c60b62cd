"""`memman mcp`: memman as an MCP server over stdio, on the official Python
SDK (`pip install 'memman[mcp]'`). server.py builds it; every tool calls the
same application service as the CLI (memman/scope/service.py over
memman/service.py), so nothing here reimplements remember or recall."""
