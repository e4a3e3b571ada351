"""The offline planner on the examples of shared/spec/intents.md and the grammar around them."""

import pytest

from chatface.agent.planners.intent_parser import IntentParser

P = IntentParser()


def parse(msg, state=None, last=None):
    return P.parse(msg, state or {}, last or list((state or {}).keys())[-1:])


def changes(intent):
    return {c.attribute: c.strength for c in intent.changes}


@pytest.mark.parametrize(
    "msg, state, action, expected",
    [
        ("Hi! Can you give her a subtle smile and some glasses?", {}, "edit", {"smiling": 0.3, "eyeglasses": 0.6}),
        ("a bit more smile", {"smiling": 0.3, "eyeglasses": 0.6}, "edit", {"smiling": 0.4}),
        ("more smile", {"smiling": 0.6}, "edit", {"smiling": 0.8}),
        ("much more smile", {"smiling": 0.6}, "edit", {"smiling": 0.9}),
        ("less smile", {"smiling": 0.6}, "edit", {"smiling": 0.4}),
        ("a bit less smile", {"smiling": 0.6}, "edit", {"smiling": 0.5}),
        ("more glasses", {}, "edit", {"eyeglasses": 0.6}),
        ("a bit more freckles", {}, "edit", {"freckles": 0.3}),
        ("less lipstick", {}, "edit", {"lipstick": -0.6}),
        ("remove her glasses", {}, "edit", {"eyeglasses": -0.6}),
        ("remove the glasses", {"eyeglasses": 0.6}, "edit", {"eyeglasses": 0.0}),
        ("no smile", {}, "edit", {"smiling": -0.6}),
        ("make her very old", {}, "edit", {"age": 0.9}),
        ("make him younger", {}, "edit", {"age": -0.6}),
        ("fully blond hair", {}, "edit", {"blond_hair": 1.0}),
        ("30% freckles", {}, "edit", {"freckles": 0.3}),
        ("give her red lips, slightly tanned skin and green eyes", {}, "edit", {"lipstick": 0.6, "tanned": 0.3, "green_eyes": 0.6}),
        ("add glases pls", {}, "edit", {"eyeglasses": 0.6}),
        ("dye her hair ginger", {}, "edit", {"red_hair": 0.6}),
        ("make her eyes blue", {}, "edit", {"blue_eyes": 0.6}),
    ],
)
def test_edits(msg, state, action, expected):
    intent = parse(msg, state)
    assert intent.action == action
    assert changes(intent) == pytest.approx(expected)


@pytest.mark.parametrize(
    "msg, action, steps",
    [("undo", "undo", 1), ("actually undo that", "undo", 1), ("undo twice", "undo", 2), ("go back two steps", "undo", 2),
     ("redo", "redo", 1), ("bring it back", "redo", 1), ("start over", "reset", 1), ("back to the original photo", "reset", 1)],
)
def test_history_actions(msg, action, steps):
    intent = parse(msg, {"smiling": 0.6})
    assert (intent.action, intent.steps) == (action, steps)


@pytest.mark.parametrize("msg", ["thanks, that's all", "hello!", "what can you do?", "cool, thank you"])
def test_chit_chat_is_none(msg):
    assert parse(msg).action == "none"


@pytest.mark.parametrize("msg", ["make it better", "fix her face", "can you improve this?", "make her prettier"])
def test_vague_requests_ask_back(msg):
    assert parse(msg).action == "clarify"


def test_relative_without_attribute_uses_the_last_edit():
    assert changes(parse("more", {"smiling": 0.6}, ["smiling"])) == {"smiling": 0.8}
    assert changes(parse("tone it down", {"lipstick": 0.6}, ["lipstick"])) == {"lipstick": 0.4}


def test_undo_and_edit_in_one_message():
    intent = parse("undo that and add a beard instead", {"smiling": 0.6})
    assert intent.action == "edit" and intent.undo_steps == 1 and changes(intent) == {"beard": 0.6}


def test_paraphrase_through_sentence_embeddings():
    from chatface.agent.planners.embeddings import PhraseMatcher

    parser = IntentParser(embedder=PhraseMatcher())
    intent = parser.parse("make her look like a grandmother", {}, [])
    assert intent.action == "edit" and "age" in changes(intent) and changes(intent)["age"] > 0
