"""Ways into chatface from outside: a LangChain toolkit, OpenAI tool schemas, an MCP server, a web app, a LangGraph server graph."""
