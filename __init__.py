"""chatface: chat-guided editing of real face photos.

A LangGraph agent turns chat messages into calls of typed tools; the tools edit
the photo (offline landmark engine by default, a diffusion h-space engine on a
GPU), check each result for identity and direction, and keep every step in a
SQL-backed session memory. Heavy libraries are imported where they are used, so
importing this package is cheap.
"""

__version__ = "0.1.0"
