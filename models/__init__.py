"""Image and neural code behind the tools: generators, scorers, faces. Imports nothing of the agent."""
