"""Property tests (hypothesis): the offline planner and the tool schemas never crash on any input."""

from __future__ import annotations

import math

from chatface.agent.planners.intent_parser import IntentParser
from chatface.tools.schemas import ApplyAttributeArgs, UndoArgs
from chatface.tools.vocabulary import default_vocabulary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

VOCAB = default_vocabulary()
IDS = VOCAB.ids()
PARSER = IntentParser()  # lexical grammar (no embeddings: the property is about the parser's own code)
WORDS = [
    "make",
    "her",
    "more",
    "less",
    "a bit",
    "very",
    "undo",
    "redo",
    "start over",
    "remove",
    "no",
    "not",
    "30%",
    "0.4",
    "twice",
    "and",
    ",",
    "then",
    "glasses",
    "smile",
    "older",
    "blonde hair",
    "green eyes",
    "it",
    "them",
    "😀",
    "?",
    "!!",
]

states = st.dictionaries(
    st.sampled_from(IDS), st.floats(-1, 1, allow_nan=False).filter(lambda v: abs(v) > 1e-3).map(lambda v: round(v, 4)), max_size=6
)
messages = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(WORDS + IDS), max_size=14).map(" ".join))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages, states, st.lists(st.sampled_from(IDS), max_size=3))
def test_the_offline_planner_always_returns_a_valid_intent(message, state, last):
    intent = PARSER.parse(message, state, last)
    assert intent.action in ("edit", "undo", "redo", "reset", "none", "clarify")
    assert intent.steps >= 1 and intent.undo_steps >= 0
    if intent.action == "edit":
        assert intent.changes
    for change in intent.changes:
        assert change.attribute in VOCAB
        assert math.isfinite(change.strength) and -1.0 <= change.strength <= 1.0


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)
edits = st.lists(
    st.fixed_dictionaries(
        {
            "attribute": st.one_of(st.sampled_from(IDS), st.text(max_size=12)),
            "strength": st.one_of(st.floats(), st.integers(-3, 3), st.text(max_size=5)),
        },
        optional={"t_edit": st.one_of(st.integers(-5000, 5000), st.floats())},
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(edits, json_values), st.one_of(st.sampled_from(["set", "change"]), json_values))
def test_tool_schemas_accept_only_valid_arguments_and_fail_only_with_validation_errors(edit_list, mode):
    try:
        args = ApplyAttributeArgs(edits=edit_list, mode=mode)
    except ValidationError:
        return
    assert args.mode in ("set", "change") and args.edits
    for e in args.edits:
        assert e.attribute in VOCAB and math.isfinite(e.strength) and -1 <= e.strength <= 1
        assert e.t_edit is None or 0 <= e.t_edit <= 999


@given(json_values)
def test_undo_steps_are_validated(steps):
    try:
        args = UndoArgs(steps=steps)
    except ValidationError:
        return
    assert isinstance(args.steps, int) and args.steps >= 1
