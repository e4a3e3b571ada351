"""The offline planner's learned mention model (agent/planners/mentions.py): attribute words that only tell the story
around a request are not edited, the request's words are, and a message with one attribute word is read as before.

The messages here are in neither of the model's training sources (data/mentions.txt and the development sets).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chatface.agent.planners.intent_parser import IntentParser
from chatface.agent.planners.mentions import CLASSES, DIMENSIONS, Mention, MentionModel, default_mention_model, features
from chatface.agent.planners.train_mentions import DATA, DEVELOPMENT_SETS, WRITTEN, examples, fit, read_written

PARSER = IntentParser(mentions=default_mention_model())
GRAMMAR = IntentParser()

STORIES = [
    # (message, what it asks, a story word the grammar alone edits)
    ("Could you add a beard? In the old days he looked like a fisherman.", {"beard"}, "age"),
    ("He was always the angry one in our class photos, so can you give him a friendly smile?", {"smiling"}, "angry"),
    ("Put a hat on him, we're going to a wedding of an old friend from university", {"hat"}, "age"),
    ("give my brother a mustache, he's the young one on the left of the sofa", {"mustache"}, "age"),
    ("make her hair curly, her mum was angry when she straightened it", {"curly_hair"}, "angry"),
]


def _changed(intent) -> set[str]:
    return {c.attribute for c in intent.changes}


def test_the_shipped_model_loads_and_the_test_messages_are_not_training_data():
    model = default_mention_model()
    assert model is not None and 0 < model.threshold < 1
    written = {text.lower() for _, text in read_written(WRITTEN)}
    dev = set()
    for name in DEVELOPMENT_SETS:
        for line in (DATA / f"{name}.jsonl").read_text().splitlines():
            if line.strip():
                dev |= {t["user"].lower() for t in json.loads(line)["turns"]}
    for message, _, _ in STORIES:
        assert message.lower() not in written and message.lower() not in dev


@pytest.mark.parametrize("message,asked,story", STORIES)
def test_story_words_are_not_edited_and_the_request_is(message, asked, story):
    grammar = GRAMMAR.parse(message, {}, [])
    assert story in _changed(grammar), f"the grammar alone no longer edits {story!r}: pick another example"
    intent = PARSER.parse(message, {}, [])
    assert intent.action == "edit" and _changed(intent) == asked, intent


@pytest.mark.parametrize(
    "message",
    ["make him older and give him a beard", "add glasses and a hat, and make her smile a lot", "blonde hair, curly, and a bit of blush"],
)
def test_requests_of_several_attributes_keep_every_one(message):
    assert _changed(PARSER.parse(message, {}, [])) == _changed(GRAMMAR.parse(message, {}, []))


def test_a_single_attribute_word_is_read_as_the_grammar_reads_it():
    for message in ("he looks so old in this one", "old", "make him look his age"):
        assert PARSER.parse(message, {}, []) == GRAMMAR.parse(message, {}, [])


def test_the_training_labels_come_from_the_gold_state(tmp_path):
    """A mention is a request when the gold state changes its attribute on that turn, story otherwise."""
    path = tmp_path / "one.jsonl"
    turn = {"user": "my old boss had a beard, give me sunglasses please", "action": "edit", "state": {"sunglasses": 0.6}}
    turn2 = {"user": "lose the sunglasses, he hated them", "action": "edit", "state": {}}
    path.write_text(json.dumps({"id": "x1", "turns": [turn, turn2]}) + "\n")
    rows = examples([path])
    labels = [(r[2].attribute, CLASSES[r[4]]) for r in rows]  # "my old boss" names the person: no attribute word
    assert labels == [("beard", "story"), ("sunglasses", "add"), ("sunglasses", "remove")], labels
    w, b = fit(rows, steps=50)
    assert w.shape == (len(CLASSES), DIMENSIONS) and np.isfinite(b).all()


def test_weights_of_the_wrong_shape_or_threshold_are_refused():
    with pytest.raises(ValueError, match="must be"):
        MentionModel(np.zeros(10), np.zeros(3))
    with pytest.raises(ValueError, match="threshold"):
        MentionModel(np.zeros((len(CLASSES), DIMENSIONS)), np.zeros(len(CLASSES)), threshold=1.5)
    f = features("give him a beard", Mention(11, 16, "beard", "beard"), 1)
    assert f and abs(sum(v * v for v in f.values()) - 1.0) < 1e-5
