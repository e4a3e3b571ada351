"""The offline planner's learned turn-act model (agent/planners/acts.py) and the grammar rules that came with it.

The sentences here are not in the model's training data (data/acts.txt): they check that it generalises, and that
the planner turns its act into the right tool call (counts included).
"""

from __future__ import annotations

import numpy as np
import pytest

from chatface.agent.planners.acts import ACTS, ActModel, default_act_model, features
from chatface.agent.planners.intent_parser import IntentParser
from chatface.agent.planners.train_acts import DATA, read_data

PARSER = IntentParser(acts=default_act_model())
GRAMMAR = IntentParser()


def test_the_shipped_weights_load_and_the_test_sentences_are_not_training_data():
    model = default_act_model()
    assert model is not None and model.acts == ACTS
    written = {text.lower() for _, text in read_data(DATA)}
    for text, _ in UNSEEN:
        assert text.lower() not in written


UNSEEN = [
    ("could you reverse the previous three edits", "undo"),
    ("pls go bak one more step", "undo"),
    ("put it all back to how it started", "reset"),
    ("strat ovre from the begining", "reset"),
    ("thank u so much this is brilliant", "none"),
    ("does she have blue eyes?", "none"),
]


@pytest.mark.parametrize("text,act", UNSEEN)
def test_the_act_model_reads_acts_it_was_not_shown(text, act):
    assert default_act_model()(text).act == act


def test_the_planner_takes_the_act_and_its_count_where_the_grammar_had_none():
    state = {"smiling": 0.6, "hat": 0.6, "beard": 0.6}
    assert GRAMMAR.parse("could you reverse the last two changes you made?", state, ["beard"]).action != "undo"
    intent = PARSER.parse("could you reverse the last two changes you made?", state, ["beard"])
    assert (intent.action, intent.steps) == ("undo", 2)
    assert PARSER.parse("ok lets wipe the lot and go back to the untouched photo", state, ["beard"]).action == "reset"


def test_a_wish_is_read_as_the_request_it_is_and_a_question_stays_a_question():
    intent = PARSER.parse("I wonder how she'd look as a redhead", {}, [])
    assert intent.action == "edit" and [(c.attribute, c.strength) for c in intent.changes] == [("red_hair", 0.6)]
    assert PARSER.parse("is the man in the photo wearing a hat?", {}, []).action == "none"


def test_amounts_and_removals_said_after_the_thing():
    def changes(text, state=None, last=None):
        return {c.attribute: c.strength for c in PARSER.parse(text, state or {}, last or []).changes}

    assert changes("freckles, heaps of them") == {"freckles": 0.9}
    assert changes("blush, only a touch") == {"rosy_cheeks": 0.3}
    assert changes("sunglasses off", {"sunglasses": 0.6}, ["sunglasses"]) == {"sunglasses": 0.0}  # removes the edit
    assert changes("and the beard remove please") == {"beard": -0.6}  # the photo's own beard
    from chatface.agent.planners.intent_parser import _normalise

    assert _normalise("turn it off") == "turn it off" and _normalise("she looks off") == "she looks off"  # no thing named


def test_instead_replaces_the_old_one_of_the_same_kind():
    def changes(text, state, last):
        return {c.attribute: c.strength for c in PARSER.parse(text, state, last).changes}

    assert changes("hmm, angry instead", {"smiling": 0.6, "hat": 0.6}, ["smiling"]) == {"angry": 0.6, "smiling": 0.0}
    assert changes("swap the hat for earrings", {"hat": 0.6, "smiling": 0.6}, ["smiling"]) == {"earrings": 0.6, "hat": 0.0}
    assert changes("a goatee instead of the mustache", {"mustache": 0.6}, ["mustache"]) == {"goatee": 0.6, "mustache": 0.0}
    # a new thing of another kind adds, it does not replace
    assert changes("a hat instead", {"beard": 0.6}, ["beard"]) == {"hat": 0.6}


def test_training_is_deterministic_and_gives_the_shipped_model(tmp_path):
    from chatface.agent.planners.train_acts import main

    assert main(["--out", str(tmp_path / "acts.npz")]) == 0
    again, shipped = ActModel.load(tmp_path / "acts.npz"), default_act_model()
    assert np.allclose(again.weights, shipped.weights, atol=2e-3) and np.allclose(again.bias, shipped.bias, atol=2e-3)
    texts = [text for _, text in read_data(DATA)]
    assert [again(t).act for t in texts] == [shipped(t).act for t in texts]


def test_features_see_through_typos():
    a, b, c = features("go back two steps"), features("go bakc two stpes"), features("add a beard")

    def cosine(x, y):
        return sum(v * y.get(k, 0.0) for k, v in x.items())

    assert cosine(a, b) > 2 * cosine(a, c)
