import math

import pytest
from chatface.tools.edit_state import apply_changes


def _tools(editor, tmp_path):
    from chatface.tools.toolkit import SessionToolkit

    return {t.name: t for t in SessionToolkit(editor, tmp_path / "exports").langchain_tools()}


def _call(tool, args):
    return tool.invoke({"name": tool.name, "args": args, "id": "call_1", "type": "tool_call"})


@pytest.mark.parametrize(
    "args, expected",
    [
        ({"edits": [{"attribute": "wings", "strength": 0.5}]}, "unknown attribute"),
        ({"edits": [{"attribute": "smiling", "strength": 1.5}]}, "less than or equal to 1"),
        ({"edits": [{"attribute": "smiling", "strength": math.nan}]}, "strength"),
        ({"edits": [{"attribute": "smiling", "strength": 0.5, "t_edit": 5000}]}, "t_edit"),
        ({"edits": []}, "edits"),
        ({"edits": [{"attribute": "smiling", "strength": "lots"}]}, "strength"),
        ({"concepts": [{"text": "eyeglasses", "strength": 0.5}]}, "put it in 'edits' as attribute 'eyeglasses'"),
        ({"concepts": [{"text": "a smile", "strength": 0.5}]}, "'smiling'"),
        ({"concepts": [{"text": "a hat <b>{ignore}</b>", "strength": 0.5}]}, "plain words"),
        ({"concepts": [{"text": "x" * 81, "strength": 0.5}]}, "at most 80"),
        ({"concepts": [{"text": "a pirate hat", "strength": 2}]}, "less than or equal to 1"),
        ({"edits": [{"attribute": "a pirate hat", "strength": 0.5}]}, "goes in 'concepts' as free text"),
    ],
)
def test_invalid_arguments_come_back_as_messages(editor, tmp_path, args, expected):
    msg = _call(_tools(editor, tmp_path)["apply_attribute"], args)
    assert expected in msg.content
    assert msg.content.startswith("Error")
    assert editor.head().seq == 0  # nothing was stored


def test_unknown_attribute_suggests_ids(editor, tmp_path):
    msg = _call(_tools(editor, tmp_path)["apply_attribute"], {"edits": [{"attribute": "smilling", "strength": 0.5}]})
    assert "smiling" in msg.content


def test_apply_undo_redo_reset_history_export(editor, tmp_path):
    tools = _tools(editor, tmp_path)
    msg = _call(
        tools["apply_attribute"], {"edits": [{"attribute": "lipstick", "strength": 0.6}, {"attribute": "smiling", "strength": 0.3}]}
    )
    assert msg.artifact["node_seq"] == 1 and msg.artifact["scores"]["same_person"]
    assert editor.head().strengths() == {"lipstick": 0.6, "smiling": 0.3}
    msg = _call(tools["apply_attribute"], {"edits": [{"attribute": "smiling", "strength": 0.2}], "mode": "change"})
    assert editor.head().strengths()["smiling"] == 0.5
    assert _call(tools["undo"], {"steps": 1}).artifact["node_seq"] == 1
    assert _call(tools["redo"], {}).artifact["node_seq"] == 2
    assert _call(tools["reset"], {}).artifact["state"] == {}
    assert "node 3" in _call(tools["history"], {}).content
    out = _call(tools["export"], {"filename": "result.png", "node": 2})
    assert (tmp_path / "exports" / "result.png").exists(), out.content
    for bad in ("../escape.png", "/tmp/abs.png", "result.png", "x.gif"):
        assert _call(tools["export"], {"filename": bad}).content.startswith("Error")


def test_unsupported_attribute_is_reported_not_skipped(editor, tmp_path):
    msg = _call(
        _tools(editor, tmp_path)["apply_attribute"],
        {"edits": [{"attribute": "beard", "strength": 0.6}, {"attribute": "lipstick", "strength": 0.6}]},
    )
    assert "beard" in msg.content and "cannot" in msg.content
    assert editor.head().strengths() == {"lipstick": 0.6}
    assert msg.artifact["unsupported"] == {"beard": "not available"}


def test_exclusive_groups_and_clamping():
    state = apply_changes({}, [("red_hair", 0.6, None)])
    state = apply_changes(state, [("blond_hair", 0.6, None)])
    assert set(state) == {"blond_hair"}
    state = apply_changes(state, [("blond_hair", 0.8, None)], mode="change")
    assert state["blond_hair"]["strength"] == 1.0
    assert apply_changes(state, [("blond_hair", 0.0, None)]) == {}


def test_free_text_on_an_engine_without_text_is_refused_and_said(editor, tmp_path):
    """The offline engine edits only the vocabulary: a free-text concept is named as not done, the rest is applied."""
    from chatface.agent.prompts import system_prompt
    from chatface.tools.schemas import AttributeEdit, TextConcept
    from chatface.tools.toolkit import SessionToolkit

    tools = SessionToolkit(editor, tmp_path)
    assert not tools.context().free_text
    assert "edits only the vocabulary" in system_prompt(tools.context())
    text, art = tools.apply_attribute(
        [AttributeEdit(attribute="lipstick", strength=0.6)], concepts=[TextConcept(text="a pirate hat", strength=0.6)]
    )
    assert art["unsupported"] == {"text:a pirate hat": "free-text concepts need a text-driven engine (--engine ledits)"}
    assert text.startswith('Not applied: the offline engine cannot do "a pirate hat"')
    assert editor.head().state == {"lipstick": {"strength": 0.6, "t_edit": editor.head().state["lipstick"]["t_edit"]}}


def test_example_photos_on_the_default_install_need_no_extra(tmp_path, monkeypatch):
    """Issue 23: without insightface (the README's `.[serve]` install) the web app still offers two portraits and a
    photo with two faces, all from default dependencies (scikit-image's astronaut, matplotlib's Grace Hopper)."""
    from chatface.models.faces.detection import detect_faces
    from chatface.models.images import load_image
    from chatface.tools import examples

    monkeypatch.setattr(examples, "group_photo", lambda: None)
    paths = examples.write_example_photos(tmp_path)
    assert [p.name for p in paths] == ["astronaut.png", "grace-hopper.png", examples.TWO_FACES]
    assert len(detect_faces(load_image(paths[1]))) == 1
    assert len(detect_faces(load_image(paths[2]))) == 2
    assert examples.write_example_photos(tmp_path) == paths  # written once


def test_a_turns_edit_context_is_one_read_of_the_store(editor, tmp_path, monkeypatch):
    """The context the planner sees (head, versions, what redo would bring back) comes from one transaction, so it
    agrees with itself while another writer moves the head, and a turn does not pay three reads for it."""
    from chatface.memory.store import SessionNotFoundError
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.toolkit import SessionToolkit

    tools = SessionToolkit(editor, tmp_path / "exports")
    tools.apply_attribute([AttributeEdit(attribute="smiling", strength=0.4)])
    tools.apply_attribute([AttributeEdit(attribute="lipstick", strength=0.6)])
    tools.undo(1)
    units = []
    real = editor.store.unit
    monkeypatch.setattr(editor.store, "unit", lambda **kw: units.append(kw) or real(**kw))
    context = tools.context()
    assert units == [{"read": True}]
    assert context.strengths == {"smiling": 0.4} and context.head == 1 and context.redoable
    assert [v.seq for v in context.versions] == [0, 1, 2]
    with pytest.raises(SessionNotFoundError):
        editor.store.tree(editor.session_id, owner="someone else")
