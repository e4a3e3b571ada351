"""Planners: LangChain chat models with tool calling (an LLM endpoint, or the offline planner)."""
