"""The whole graph: multi-turn conversations with the offline planner, and with ChatOpenAI
pointed at a scripted OpenAI-compatible server on 127.0.0.1."""

import pytest
from chatface.agent.planners.offline import OfflinePlanner
from chatface.agent.session import PlannerError
from chatface.configuration import Configuration
from helpers import chat_agent, scripted_endpoint


def test_multi_turn_with_the_offline_planner(editor, tmp_path):
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    r = agent.send("give her a subtle smile and red lipstick")
    assert r.head.strengths() == {"smiling": 0.3, "lipstick": 0.6}
    assert "identity" in r.text
    r = agent.send("more smile")
    assert r.head.strengths() == {"smiling": 0.5, "lipstick": 0.6}
    r = agent.send("add glasses")  # withdrawn from the offline engine: reported, nothing changes
    assert r.head.strengths() == {"smiling": 0.5, "lipstick": 0.6} and "the ledits engine does it" in r.text
    assert agent.send("undo").head.strengths() == {"smiling": 0.3, "lipstick": 0.6}
    assert agent.send("redo").head.strengths() == {"smiling": 0.5, "lipstick": 0.6}
    r = agent.send("add a beard")
    assert "beard" in r.text and "cannot" in r.text
    assert agent.send("start over").head.strengths() == {}
    r = agent.send("make it better")
    assert r.head.strengths() == {} and "?" in r.text
    # stored conversation, resumable with a fresh agent
    msgs = editor.store.messages(editor.session_id)
    assert sum(m.role == "user" for m in msgs) == 8
    assert any(m.tool_calls for m in msgs if m.role == "assistant")
    again = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    assert again.send("undo").head.strengths() == {"smiling": 0.5, "lipstick": 0.6}


def test_self_check_re_edits_when_identity_fails(editor, tmp_path):
    from chatface.tools.editor import Thresholds

    editor.thresholds = Thresholds(identity_distance=0.06, direction=0.1)
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    r = agent.send("give her a very big smile")
    assert "Self-check" in r.text
    kept = r.head.strengths()["smiling"]
    assert 0 < kept < 0.9
    attempts = editor.store.attempts(editor.session_id, r.head.id)
    assert len(attempts) >= 2 and sum(a.kept for a in attempts) == 1
    assert r.head.scores["identity_distance"] < 0.06


@pytest.fixture()
def scripted_server():
    with scripted_endpoint() as ep:
        yield ep


def test_chat_openai_against_a_scripted_endpoint(editor, tmp_path, scripted_server):
    from chatface.agent.planners.llm import make_chat_openai

    url, handler = scripted_server
    config = Configuration(planner="openai", model="scripted", base_url=url, api_key="test", llm_max_retries=0, llm_timeout_s=10)
    agent = chat_agent(editor, make_chat_openai(config), tmp_path, config)
    handler.script += [
        [
            (
                "apply_attribute",
                {"edits": [{"attribute": "smiling", "strength": 0.3, "t_edit": 450}, {"attribute": "lipstick", "strength": 0.6}]},
            )
        ],
        "Done: a subtle smile and red lipstick.",
        [("apply_attribute", {"edits": [{"attribute": "wings", "strength": 0.6}]}), ("teleport", {"where": "mars"})],
        "Sorry, I cannot add wings.",
        [("undo", {"steps": 1})],
        "Undone.",
    ]
    r = agent.send("give her a subtle smile and red lipstick")
    assert r.text == "Done: a subtle smile and red lipstick."
    assert r.head.strengths() == {"smiling": 0.3, "lipstick": 0.6}
    first = handler.requests[0]
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "invert",
        "apply_attribute",
        "verify_identity",
        "undo",
        "redo",
        "reset",
        "history",
        "export",
    }
    assert "blond_hair" in first["messages"][0]["content"]  # the vocabulary is in the system prompt
    r = agent.send("give her wings")
    tool_msgs = [m for m in handler.requests[3]["messages"] if m["role"] == "tool"]
    assert any("unknown attribute" in m["content"] for m in tool_msgs)
    assert any("no tool 'teleport'" in m["content"] for m in tool_msgs)
    assert r.head.strengths() == {"smiling": 0.3, "lipstick": 0.6}
    assert agent.send("undo").head.seq == 0


def test_failing_endpoint_is_a_clear_error_and_stores_nothing(editor, tmp_path, scripted_server):
    from chatface.agent.planners.llm import make_chat_openai

    url, handler = scripted_server
    handler.script += ["500"]
    config = Configuration(planner="openai", model="scripted", base_url=url, api_key="test", llm_max_retries=0, llm_timeout_s=10)
    agent = chat_agent(editor, make_chat_openai(config), tmp_path, config)
    with pytest.raises(PlannerError):
        agent.send("add glasses")
    assert editor.store.messages(editor.session_id) == []
    assert editor.head().seq == 0


def test_going_back_to_an_earlier_version_checks_that_node_out(editor, tmp_path):
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    agent.send("give her red lipstick")
    agent.send("add a big smile")
    agent.send("remove the lipstick")
    r = agent.send("go back to the version with lipstick")
    assert [c["name"] for c in r.tool_calls] == ["checkout"]
    assert r.head.seq == 2 and r.head.strengths() == {"lipstick": 0.6, "smiling": 0.9}
    assert [n.seq for n in editor.store.nodes(editor.session_id)] == [0, 1, 2, 3]  # checked out, not re-applied
    assert agent.send("go back to node 1").head.seq == 1
    assert agent.send("redo").head.seq == 2  # the path it came from is still there
    r = agent.send("return to the one with green eyes")
    assert "No earlier version" in r.text and r.head.seq == 2
    assert "no node 9" in agent.send("go back to node 9").text


def test_the_offline_planner_reads_the_edit_state_as_data_not_from_the_prompt():
    from chatface.tools.edit_state import EditContext
    from langchain_core.messages import HumanMessage, SystemMessage

    planner = OfflinePlanner(use_embeddings=False)
    misleading = SystemMessage('Current edit state (JSON): {"smiling": 0.9}\nLast edited attributes (JSON): ["smiling"]')
    context = EditContext(strengths={"lipstick": 0.6}, last_changed=("lipstick",), head=1)
    answer = planner.invoke([misleading, HumanMessage("a bit more")], edit_context=context)
    assert answer.tool_calls[0]["args"]["edits"] == [{"attribute": "lipstick", "strength": 0.7}]
