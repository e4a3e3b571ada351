"""The conversational agent: a LangGraph state machine over chatface's tools."""
