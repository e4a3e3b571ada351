"""The chatface agent as a LangGraph server / Studio graph, and as a subgraph of other graphs.

``langgraph.json`` points the LangGraph server at ``make_graph``, which
returns one compiled graph per process (session -> plan -> tools ->
respond): the engine and the planner are loaded once, from the environment
(chatface.configuration), and every run names its session::

    {"configurable": {"session_id": "...", "owner": "local"}}   # go on with a stored session
    {"configurable": {"photo": "/path/to/photo.jpg"}}            # open a new one

A run on a thread keeps the session it opened in the thread's state, so later
runs on that thread need no configurable at all. The compiled graph is an
ordinary LangGraph runnable over a ``messages`` state, so it can also be added
as a node of someone else's graph. Engine, device, precision, steps, face
index, database and self-check thresholds come from CHATFACE_* variables,
exactly as for the CLI. Absolute imports: the server loads this file by path.
"""

from __future__ import annotations

import asyncio

from chatface.agent.session import ChatService
from chatface.configuration import Configuration
from chatface.tools.lazy import Lazy
from langchain_core.runnables import RunnableConfig

_chats: Lazy[ChatService] = Lazy(lambda: ChatService(Configuration()))


async def make_graph(config: RunnableConfig | None = None):
    """The chatface graph, compiled once per process (in a worker thread: opening the database blocks); the run's
    ``configurable`` names its session (see above)."""
    return (await asyncio.to_thread(_chats.get)).server_graph
