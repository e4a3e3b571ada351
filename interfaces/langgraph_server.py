"""The chatface agent as a LangGraph server / Studio graph, and as a subgraph of other graphs.

``langgraph.json`` points the LangGraph server at ``make_graph``: a graph
factory that receives each run's RunnableConfig and builds our compiled
graph (plan -> tools -> self_check -> respond) for the session it names::

    {"configurable": {"session_id": "...", "owner": "local"}}        # go on with a stored session
    {"configurable": {"photo": "/path/to/photo.jpg"}}                 # open a new one
    # optional: planner, model, base_url, engine, models_dir, database_url, export_dir

The compiled graph is an ordinary LangGraph runnable over a ``messages``
state, so it can also be added as a node of someone else's graph. Absolute
imports: the server loads this file by path.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig

from chatface.agent.configuration import Configuration
from chatface.agent.graph import build_graph
from chatface.agent.planners.llm import make_planner
from chatface.memory.store import Store
from chatface.models.registry import load_engine
from chatface.tools.editor import SessionEditor, open_photo
from chatface.tools.toolkit import SessionToolkit


def make_graph(config: RunnableConfig | None = None):
    """Build the chatface graph for the session (or photo) named in ``config['configurable']``."""
    configurable = dict((config or {}).get("configurable", {}) or {})
    cfg = Configuration.from_runnable_config(config)
    owner = configurable.get("owner", "local")
    store = Store(cfg.database_url)
    if configurable.get("session_id"):
        info = store.get_session(configurable["session_id"], owner=owner)
        parts = load_engine(info.engine, models_dir=cfg.models_dir)  # the engine that made the session
        editor = SessionEditor(store, parts, info.id, owner=owner)
    elif configurable.get("photo"):
        editor = open_photo(store, load_engine(cfg.engine, models_dir=cfg.models_dir), configurable["photo"], owner=owner)
    else:
        raise ValueError("configurable needs a session_id (a stored session) or a photo (a new session)")
    toolkit = SessionToolkit(editor, configurable.get("export_dir"))
    graph = build_graph(make_planner(cfg), toolkit, cfg)
    graph.session_id = editor.session_id  # the caller can find the session the graph edits
    return graph
