"""The agent as a LangGraph StateGraph, top to bottom:

    session -> plan -> tools -> plan ... -> respond

session: which chat session this run edits: the one in the state, or the
configured ``session_id``, or a new one on the configured ``photo``. The graph
is compiled once per process and serves any session; a run's tools are the
ones bound to its session. plan: the planner (an LLM or the offline planner)
sees the system prompt with the session's edit state and the conversation, and
answers with tool calls or text; a planner that reads the edit state as data
(the offline one) gets it as data. tools: the calls run in order (undo before
the edit that follows it); ``apply_attribute`` checks its own result and
re-edits when a check fails (tools/selfcheck.py), so every client of the tools
gets that. respond: the planner's final words, opened by what could not be
done and followed by what the self-check traded off, so the user is always
told even when an LLM leaves it out.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from ..tools.service import EditService
from ..tools.toolkit import SessionToolkit
from .errors import PlannerError
from .prompts import system_prompt
from .state import AgentState


def build_graph(planner, service: EditService):
    """The chatface graph over ``service``'s sessions.

    A run names its session through the state's ``session_id`` or its
    RunnableConfig's ``configurable``: ``toolkit`` (an in-process SessionToolkit,
    as ChatAgent passes), ``session_id`` with ``owner``, or ``photo`` (a new
    session; its id is kept in the state).
    """
    model = planner.bind_tools(SessionToolkit(None).langchain_tools())  # the tools' schemas; the calls run on the run's session
    reads_context = getattr(planner, "reads_edit_context", False)

    def toolkit_of(state: AgentState, config: RunnableConfig) -> SessionToolkit:
        configurable = config.get("configurable") or {}
        if configurable.get("toolkit") is not None:
            return configurable["toolkit"]
        return service.toolkit(service.open_session(state.session_id, owner=configurable.get("owner", "local")))

    def session(state: AgentState, config: RunnableConfig) -> dict:
        configurable = config.get("configurable") or {}
        owner = configurable.get("owner", "local")
        fresh = {"not_done": None, "trade_offs": None}  # this run's notes only (a checkpointed thread keeps its state)
        if configurable.get("toolkit") is not None:
            return {**fresh, "session_id": configurable["toolkit"].editor.session_id}
        if state.session_id:
            return fresh
        if configurable.get("session_id"):
            return {**fresh, "session_id": service.open_session(configurable["session_id"], owner=owner).session_id}
        if configurable.get("photo"):
            return {**fresh, "session_id": service.open_photo(configurable["photo"], owner=owner).session_id}
        raise ValueError("configurable needs a session_id (a stored session) or a photo (a new session)")

    def plan(state: AgentState, config: RunnableConfig) -> dict:
        context = toolkit_of(state, config).context()
        try:
            response = model.invoke([SystemMessage(system_prompt(context)), *state.messages],
                                    **({"edit_context": context} if reads_context else {}))
        except Exception as exc:  # noqa: BLE001 - any failure of the planner call ends the turn with one clear error
            raise PlannerError(f"the planner endpoint failed: {exc.__class__.__name__}: {str(exc)[:300]}") from exc
        return {"messages": [response]}

    def route_after_plan(state: AgentState) -> Literal["tools", "respond"]:
        last = state.messages[-1]
        return "tools" if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls) else "respond"

    def run_tools(state: AgentState, config: RunnableConfig) -> dict:
        by_name = {t.name: t for t in toolkit_of(state, config).langchain_tools()}
        results = []
        for bad in state.messages[-1].invalid_tool_calls:  # arguments that are not JSON: tell the model, run nothing
            results.append(ToolMessage(content=f"Error: the arguments of {bad.get('name')!r} are not valid JSON ({bad.get('error') or 'unparseable'}); "
                                               "call the tool again with a JSON object.",
                                       tool_call_id=bad.get("id") or "", name=bad.get("name") or "", status="error"))
        for call in state.messages[-1].tool_calls:
            tool = by_name.get(call["name"])
            if tool is None:
                results.append(ToolMessage(content=f"Error: there is no tool {call['name']!r}; the tools are {', '.join(by_name)}.",
                                           tool_call_id=call["id"], name=call["name"], status="error"))
                continue
            results.append(tool.invoke({**call, "type": "tool_call"}))
        # what the user must be told whatever the planner writes: parts not done and limits; the self-check's trade-offs
        artifacts = [getattr(m, "artifact", None) or {} for m in results]
        return {"messages": results,
                "not_done": [n for a in artifacts for n in a.get("not_done") or []],
                "trade_offs": [a["self_check"] for a in artifacts if a.get("self_check")]}

    def respond(state: AgentState) -> dict:
        final = state.messages[-1]
        text = final.content if isinstance(final.content, str) else str(final.content)
        not_done = [n for n in dict.fromkeys(state.not_done) if n not in text]
        after = [n for n in dict.fromkeys(state.trade_offs) if n not in text]
        if not not_done and not after:
            return {}
        return {"messages": [AIMessage(content="\n".join([*not_done, *([text] if text else []), *after]), id=final.id)]}

    graph = StateGraph(AgentState)
    graph.add_node("session", session)
    graph.add_node("plan", plan)
    graph.add_node("tools", run_tools)
    graph.add_node("respond", respond)
    graph.add_edge(START, "session")
    graph.add_edge("session", "plan")
    graph.add_conditional_edges("plan", route_after_plan)
    graph.add_edge("tools", "plan")
    graph.add_edge("respond", END)
    return graph.compile(name="chatface")
