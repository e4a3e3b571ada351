"""The agent as a LangGraph StateGraph, top to bottom:

    session -> plan -> tools -> plan ... -> respond

session: which chat session this run edits (the configured ``session_id``, the
one this thread already edits, or a new one on the configured ``photo``), its
stored conversation read from the memory, and this turn's user message checked
(a refused one, or a session that cannot be opened, is answered at once in
words and nothing is stored; a run with no room for
the rest is answered at once and stored). plan: the planner (an LLM
or the offline planner) sees the system prompt with the session's edit state,
the history and this turn, and answers with tool calls or text; a planner that
reads the edit state as data (the offline one) gets it as data. Near the run's
recursion limit it answers in words instead of calling more tools. tools: the
calls run in order (undo before the edit that follows it); ``apply_attribute``
checks its own result and re-edits when a check fails (tools/selfcheck.py), so
every client of the tools gets that. respond: the planner's final words,
opened by what could not be done and followed by what the self-check traded
off, so the user is always told even when an LLM leaves it out; then the turn
is stored in the memory.

Every node runs its blocking work (database, images, the planner call) in a
worker thread when the graph is run asynchronously (the LangGraph server), and
directly when it is invoked synchronously (the CLI, the web app).

Who may reach what: a trusted graph (``trusted=True``, run in-process by an
entry point that authenticated its user) takes ``owner`` and ``export_dir``
from the run's ``configurable``. The LangGraph server's graph is not trusted:
the owner is the run's authenticated LangGraph user (``user:NAME``) or the
configured owner, never a value the caller sends; photos are read only from
the configured ``allow_dirs``; there are no exports.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import END, START, StateGraph

from ..errors import ChatfaceError
from ..tools.service import EditService, user_owner
from ..tools.results import EditOutcome
from ..tools.toolkit import SessionToolkit
from .errors import PlannerError
from .history import HISTORY_MESSAGES, refusal, to_messages, to_rows
from .prompts import system_prompt
from .state import AgentOutput, AgentState

OUT_OF_STEPS = (
    "I stopped before finishing: this request needs more steps than this run allows (its recursion limit). "
    "What was done so far is stored; please ask for the rest again, or in smaller parts."
)
KEPT_CALLING = (
    "I stopped: the planner kept calling tools without finishing within this run's steps (its recursion limit). "
    "The edits made so far are kept; please rephrase, or ask for less at once."
)
STEPS_FOR_TOOLS = 4  # a tool call still needs tools, plan and respond, and the last node must see one step left


def _threaded(fn, name: str) -> RunnableLambda:
    """A node that runs ``fn`` directly when invoked, and in a worker thread when awaited (never on the event loop)."""

    async def afn(state, config: RunnableConfig):
        return await asyncio.to_thread(fn, state, config)

    return RunnableLambda(fn, afunc=afn, name=name)


def _authenticated_user(configurable: dict) -> str | None:
    """The identity of the LangGraph server's authenticated user of this run, if the server authenticates."""
    user = configurable.get("langgraph_auth_user")
    identity = getattr(user, "identity", None) if user is not None and not isinstance(user, dict) else (user or {}).get("identity")
    return str(identity) if identity else None


def _session_of(state: AgentState) -> str:
    """The run's session, which the session node opened before any other node runs."""
    if state.session_id is None:
        raise RuntimeError("no session is open in this run: the session node runs first")
    return state.session_id


def build_graph(planner, service: EditService, *, trusted: bool = True):
    """The chatface graph over ``service``'s sessions (see the module's docstring for ``trusted``)."""
    model = planner.bind_tools(SessionToolkit.unbound_tools())  # the tools' schemas; the calls run on the run's session
    reads_context = getattr(planner, "reads_edit_context", False)

    def owner_of(config: RunnableConfig) -> str:
        configurable = config.get("configurable") or {}
        if trusted:
            return configurable.get("owner") or service.config.owner
        user = _authenticated_user(configurable)
        return user_owner(user) if user else service.config.owner

    def toolkit_of(state: AgentState, config: RunnableConfig) -> SessionToolkit:
        configurable = config.get("configurable") or {}
        export_dir = configurable.get("export_dir") if trusted else None
        reference = configurable.get("reference")  # a reference photo attached to this turn (a path)
        dirs = [str(Path(reference).resolve().parent)] if trusted and reference else None  # untrusted: allow_dirs only
        return service.toolkit(
            service.open_session(_session_of(state), owner=owner_of(config)), export_dir, reference_dirs=dirs, reference=reference
        )

    def open_run_session(state: AgentState, configurable: dict, owner: str) -> str:
        sid = configurable.get("session_id") or state.session_id
        if sid:
            return service.open_session(sid, owner=owner).session_id  # SessionNotFoundError for a session not this owner's
        if configurable.get("photo"):
            photo = configurable["photo"] if trusted else service.allowed_photo(configurable["photo"])
            return service.open_photo(photo, owner=owner).session_id
        raise ValueError("the run's configurable needs a session_id (a stored session) or a photo (a new session)")

    def session(state: AgentState, config: RunnableConfig) -> dict:
        configurable = config.get("configurable") or {}
        owner = owner_of(config)
        fresh = {"not_done": None, "trade_offs": None}  # this run's notes only (a checkpointed thread keeps its state)
        starts = [i for i, m in enumerate(state.messages) if isinstance(m, HumanMessage)]
        if not starts:
            raise ValueError("a run needs a user message (messages: [{'role': 'user', 'content': ...}])")
        earlier = [RemoveMessage(id=m.id) for m in state.messages[: starts[-1]] if m.id]  # this turn only, from here on
        text = state.messages[starts[-1]].content
        why = refusal(text if isinstance(text, str) else str(text))
        if why is not None:
            return {**fresh, "messages": [*earlier, AIMessage(why)], "history": []}
        try:
            sid = open_run_session(state, configurable, owner)
        except (ChatfaceError, ValueError) as exc:  # said to the caller in words (a server hides exception texts); nothing stored
            return {**fresh, "messages": [*earlier, AIMessage(f"I could not open a session for this: {exc}.")], "history": []}
        history = to_messages(service.conversation(sid, owner=owner, last=HISTORY_MESSAGES))
        out = {**fresh, "session_id": sid, "history": history, "messages": earlier}
        if state.remaining_steps < 3:  # not even plan and respond fit in this run: answer, store the turn, end here
            answer = AIMessage(OUT_OF_STEPS)
            service.add_conversation(sid, to_rows([state.messages[starts[-1]], answer]), owner=owner)
            out["messages"] = [*earlier, answer]
        return out

    def route_after_session(state: AgentState) -> Literal["plan", "__end__"]:
        """The turn already answered (a refused message, or no room left in this run) ends here."""
        return "__end__" if isinstance(state.messages[-1], AIMessage) else "plan"

    def plan(state: AgentState, config: RunnableConfig) -> dict:
        context = toolkit_of(state, config).context()
        try:
            response = model.invoke(
                [SystemMessage(system_prompt(context)), *state.history, *state.messages],
                **({"edit_context": context} if reads_context else {}),
            )
        except Exception as exc:  # noqa: BLE001 - any failure of the planner call ends the turn with one clear error
            raise PlannerError(f"the planner endpoint failed: {exc.__class__.__name__}: {str(exc)[:300]}") from exc
        if (response.tool_calls or response.invalid_tool_calls) and state.remaining_steps < STEPS_FOR_TOOLS:
            response = AIMessage(KEPT_CALLING, id=response.id)  # react-agent's last-step answer
        return {"messages": [response]}

    def route_after_plan(state: AgentState) -> Literal["tools", "respond"]:
        last = state.messages[-1]
        return "tools" if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls) else "respond"

    def run_tools(state: AgentState, config: RunnableConfig) -> dict:
        by_name = {t.name: t for t in toolkit_of(state, config).langchain_tools()}
        calls = state.messages[-1]
        if not isinstance(calls, AIMessage):  # route_after_plan sends only a model's tool calls here
            raise TypeError(f"the tools node needs the model's tool calls, not a {type(calls).__name__}")
        results: list[ToolMessage] = []
        for bad in calls.invalid_tool_calls:  # arguments that are not JSON: tell the model, run nothing
            results.append(
                ToolMessage(
                    content=f"Error: the arguments of {bad.get('name')!r} are not valid JSON ({bad.get('error') or 'unparseable'}); "
                    "call the tool again with a JSON object.",
                    tool_call_id=bad.get("id") or "",
                    name=bad.get("name") or "",
                    status="error",
                )
            )
        for call in calls.tool_calls:
            tool = by_name.get(call["name"])
            if tool is None:
                results.append(
                    ToolMessage(
                        content=f"Error: there is no tool {call['name']!r}; the tools are {', '.join(by_name)}.",
                        tool_call_id=call["id"],
                        name=call["name"],
                        status="error",
                    )
                )
                continue
            results.append(tool.invoke({**call, "type": "tool_call"}))
        # what the user must be told whatever the planner writes: parts not done and limits; the self-check's trade-offs
        edits = [e for m in results if (e := EditOutcome.of(getattr(m, "artifact", None))) is not None]
        return {
            "messages": results,
            "not_done": [n for e in edits for n in e.not_done],
            "trade_offs": [e.self_check for e in edits if e.self_check],
        }

    def respond(state: AgentState, config: RunnableConfig) -> dict:
        final = state.messages[-1]
        text = final.content if isinstance(final.content, str) else str(final.content)
        not_done = [n for n in dict.fromkeys(state.not_done) if n not in text]
        after = [n for n in dict.fromkeys(state.trade_offs) if n not in text]
        if not_done or after:
            final = AIMessage(content="\n".join([*not_done, *([text] if text else []), *after]), id=final.id)
        turn = [*state.messages[:-1], final]
        service.add_conversation(_session_of(state), to_rows(turn), owner=owner_of(config))
        return {"messages": [final]} if final is not state.messages[-1] else {}

    graph = StateGraph(AgentState, output_schema=AgentOutput)
    graph.add_node("session", _threaded(session, "session"))
    graph.add_node("plan", _threaded(plan, "plan"))
    graph.add_node("tools", _threaded(run_tools, "tools"))
    graph.add_node("respond", _threaded(respond, "respond"))
    graph.add_edge(START, "session")
    graph.add_conditional_edges("session", route_after_session)
    graph.add_conditional_edges("plan", route_after_plan)
    graph.add_edge("tools", "plan")
    graph.add_edge("respond", END)
    return graph.compile(name="chatface")


__all__ = ["OUT_OF_STEPS", "build_graph"]
