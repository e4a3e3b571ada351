"""The agent as a LangGraph StateGraph, top to bottom:

    plan -> tools -> plan ... -> respond

plan: the planner (an LLM or the offline planner) sees the system prompt with
the session's current edit state and the conversation, and answers with tool
calls or text. tools: the calls run in order (undo before the edit that
follows it); ``apply_attribute`` checks its own result and re-edits when a
check fails (tools/selfcheck.py), so every client of the tools gets that.
respond: the planner's final words, opened by what could not be done and
followed by what the self-check traded off, so the user is always told even
when an LLM leaves it out.
"""

from __future__ import annotations

from typing import Literal

from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph

from ..tools.toolkit import SessionToolkit
from .configuration import Configuration
from .errors import PlannerError
from .prompts import system_prompt
from .state import AgentState


def build_graph(planner, toolkit: SessionToolkit, config: Configuration | None = None):
    config = config or Configuration()
    tools = toolkit.langchain_tools()
    by_name = {t.name: t for t in tools}
    model = planner.bind_tools(tools)
    editor = toolkit.editor

    def plan(state: AgentState) -> dict:
        head = editor.head()
        prompt = system_prompt(head.state, editor.last_changed(head))
        try:
            response = model.invoke([SystemMessage(prompt), *state.messages])
        except Exception as exc:  # noqa: BLE001 - any failure of the planner call ends the turn with one clear error
            raise PlannerError(f"the planner endpoint failed: {exc.__class__.__name__}: {str(exc)[:300]}") from exc
        return {"messages": [response]}

    def route_after_plan(state: AgentState) -> Literal["tools", "respond"]:
        last = state.messages[-1]
        return "tools" if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls) else "respond"

    def run_tools(state: AgentState) -> dict:
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
        # what the user must be told whatever the planner writes: parts not done, limits, the self-check's trade-offs
        notes = [n for m in results for n in ((getattr(m, "artifact", None) or {}).get("notes") or [])]
        return {"messages": results, "notes": notes}

    def respond(state: AgentState) -> dict:
        final = state.messages[-1]
        text = final.content if isinstance(final.content, str) else str(final.content)
        missing = [n for n in dict.fromkeys(state.notes) if n not in text]
        if not missing:
            return {}
        not_done = [n for n in missing if not n.startswith("Self-check")]
        after = [n for n in missing if n.startswith("Self-check")]
        return {"messages": [AIMessage(content="\n".join([*not_done, *([text] if text else []), *after]), id=final.id)]}

    graph = StateGraph(AgentState)
    graph.add_node("plan", plan)
    graph.add_node("tools", run_tools)
    graph.add_node("respond", respond)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", route_after_plan)
    graph.add_edge("tools", "plan")
    graph.add_edge("respond", END)
    return graph.compile(name="chatface")
