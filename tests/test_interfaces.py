"""chatface from outside: a foreign LangGraph agent using our LangChain toolkit, and the OpenAI tool schemas."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedModel(BaseChatModel):
    """A chat model that answers from a script: someone else's agent, with its own (scripted) brain."""

    script: list = []
    seen: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(messages)
        step = self.script.pop(0)
        if isinstance(step, str):
            msg = AIMessage(content=step)
        else:
            msg = AIMessage(content="", tool_calls=[{"name": n, "args": a, "id": f"c{len(self.seen)}_{i}", "type": "tool_call"}
                                                     for i, (n, a) in enumerate(step)])
        return ChatResult(generations=[ChatGeneration(message=msg)])


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_foreign_langgraph_agent_edits_with_our_toolkit(photo, db_url, tmp_path):
    from langgraph.prebuilt import create_react_agent

    from chatface.interfaces.langchain_toolkit import ChatfaceToolkit

    kit = ChatfaceToolkit.from_photo(photo, database_url=db_url, export_dir=tmp_path / "exports")
    model = ScriptedModel(script=[
        [("apply_attribute", {"edits": [{"attribute": "smiling", "strength": 0.3}, {"attribute": "eyeglasses", "strength": 0.6}]})],
        "She now smiles a little and wears glasses.",
        [("undo", {"steps": 1})],
        "Undone.",
        [("apply_attribute", {"edits": [{"attribute": "lipstick", "strength": 0.6}]}), ("export", {"filename": "final.png"})],
        "Red lipstick, saved as final.png.",
    ], seen=[])
    agent = create_react_agent(model, kit.get_tools())
    out = agent.invoke({"messages": [("user", "a subtle smile and glasses please")]})
    assert kit.head().strengths() == {"smiling": 0.3, "eyeglasses": 0.6}
    tool_result = [m for m in out["messages"] if m.type == "tool"][0]
    assert "identity" in tool_result.content and "same person" in tool_result.content  # scores reach the foreign agent
    out = agent.invoke({"messages": out["messages"] + [("user", "undo that")]})
    assert kit.head().seq == 0
    agent.invoke({"messages": out["messages"] + [("user", "just red lipstick then, and save it")]})
    assert kit.head().strengths() == {"lipstick": 0.6}
    assert (tmp_path / "exports" / "final.png").stat().st_size > 10_000
    again = ChatfaceToolkit.from_session(kit.session_id, database_url=db_url)
    assert [n.seq for n in again.session_toolkit.editor.store.nodes(kit.session_id)] == [0, 1, 2]


def test_openai_tool_schemas_from_the_cli():
    run = subprocess.run([sys.executable, "-m", "chatface.cli", "tools", "--format", "openai"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    tools = json.loads(run.stdout)
    assert [t["function"]["name"] for t in tools] == ["invert", "apply_attribute", "verify_identity", "undo", "redo", "reset", "history", "export"]
    apply = tools[1]["function"]["parameters"]
    edit = apply["properties"]["edits"]["items"]
    assert edit["properties"]["strength"]["minimum"] == -1.0 and edit["properties"]["strength"]["maximum"] == 1.0
    assert "attribute" in edit["required"]
    assert all(t["type"] == "function" and t["function"]["description"] for t in tools)
