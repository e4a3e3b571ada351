"""Issue 22: each engine offers only what it does, in people's words, and a refusal names an engine that does it."""

import json

import pytest
from chatface.agent.planners.intent_parser import IntentParser
from chatface.errors import WHY_NO_NETWORK, WHY_NOT_AVAILABLE, WHY_WITHDRAWN, Why
from chatface.agent.planners.offline import OfflinePlanner
from chatface.models.engines.catalog import ENGINES, engine_attributes
from chatface.tools.capabilities import engine_offers, engines_report, refusal
from chatface.tools.examples import REQUESTS
from chatface.tools.vocabulary import default_vocabulary
from helpers import chat_agent
from test_cli import run

WITHDRAWN_WORDS = ("glasses", "freckles", "blue eyes", "hair colour", "makeup", "sunglasses")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_planner_understands_every_label_an_engine_offers_as_that_edit(engine):
    parser = IntentParser()
    for offer in engine_offers(engine):
        for text in (offer.label, f"give her {offer.label}", f"I'd like {offer.label} please"):
            intent = parser.parse(text, {}, [])
            got = {(c.attribute, 1 if c.strength > 0 else -1) for c in intent.changes}
            assert intent.action == "edit" and (offer.attribute, offer.sign) in got, (text, intent)


def test_offers_follow_what_each_engine_renders():
    offline = {(o.attribute, o.sign) for o in engine_offers("offline")}
    assert len(offline) >= 8  # issue 22: at least 8 offline edits, a sign counting as its own
    assert {
        ("smiling", 1),
        ("lipstick", 1),
        ("lipstick", -1),
        ("big_eyes", 1),
        ("big_eyes", -1),
        ("chubby", 1),
        ("chubby", -1),
        ("rosy_cheeks", 1),
    } == offline
    assert ("eyeglasses", 1) not in offline and ("smiling", -1) not in offline
    assert engine_attributes("ledits") is None  # text-driven: every attribute with words
    ledits = {(o.attribute, o.sign) for o in engine_offers("ledits")}
    assert ("eyeglasses", 1) in ledits and ("blue_eyes", 1) in ledits and ("blue_eyes", -1) not in ledits


def test_a_models_folder_offers_the_networks_it_holds(tmp_path):
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "smiling.safetensors").write_bytes(b"")
    (tmp_path / "mappings" / "masculine.positive.safetensors").write_bytes(b"")
    assert engine_attributes("diffusion", str(tmp_path)) == {"smiling": (True, True), "masculine": (True, False)}
    assert engine_attributes("diffusion", str(tmp_path / "absent"))["age"] == (True, True)  # what `models fetch asyrp` gets


def test_a_refusal_names_the_engine_that_really_does_the_edit():
    text = refusal(
        "eyeglasses", 1, "offline", Why("the offline engine's version did not pass for a photograph, so it is withdrawn", WHY_WITHDRAWN)
    )
    assert text.startswith("glasses: the offline engine withdrew it") and "the ledits engine does it (--engine ledits" in text
    # the diffusion engine has a network for anger, and is preferred to the text-driven engine
    assert "the diffusion engine does it (--engine diffusion" in refusal("angry", 1, "offline", Why("not available", WHY_NOT_AVAILABLE))
    # the diffusion engine has no network for bigger eyes: the offline engine does them, on the core install
    assert "the offline engine does it (--engine offline, on the core install)" in refusal(
        "big_eyes", 1, "diffusion", Why("no h-space network", WHY_NO_NETWORK)
    )
    assert refusal("blue_eyes", -1, "ledits", "not available").endswith("and no engine here can")  # a plain string: not available


def test_a_refusal_follows_the_reason_code_not_its_words():
    """Rewording an engine's reason changes nothing in the refusal; and the code survives pickling (Ray replicas)."""
    import pickle

    from chatface.errors import UnsupportedAttributeError

    reworded = Why("this one was taken out after grading", WHY_WITHDRAWN)
    assert "withdrew it" in refusal("eyeglasses", 1, "offline", reworded)
    assert "has no network for it" in refusal("big_eyes", 1, "diffusion", Why("nothing trained yet", WHY_NO_NETWORK))
    again = pickle.loads(pickle.dumps(UnsupportedAttributeError({"eyeglasses": reworded})))
    assert again.unsupported["eyeglasses"] == reworded and again.unsupported["eyeglasses"].code == WHY_WITHDRAWN


def test_help_and_the_question_back_suggest_only_what_the_engine_does(editor, tmp_path):
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    help_reply = agent.send("what can you do?").text
    question = agent.send("fix her face").text
    for text in (help_reply, question):
        assert not any(w in text for w in WITHDRAWN_WORDS), text
    for offer in engine_offers("offline"):
        assert offer.label in help_reply, (offer.label, help_reply)
    assert "bigger eyes" in question


def test_every_suggested_edit_is_done_not_refused(editor, tmp_path):
    """Nothing the default engine suggests is refused: each label of its offers, sent as a request, is applied."""
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    for offer in engine_offers("offline"):
        agent.send("start over")
        r = agent.send(offer.label)
        assert "Not applied" not in r.text, (offer, r.text)
        if offer.sign > 0:  # a removal of what the photo does not have is a change too weak to see, said so
            assert r.head.strengths().get(offer.attribute, 0) > 0, (offer, r.text)


def test_the_example_requests_ask_only_for_what_the_default_engine_does():
    offered = {(o.attribute, o.sign) for o in engine_offers("offline")}
    parser = IntentParser()
    state: dict = {}
    for text in REQUESTS:
        intent = parser.parse(text, state, [])
        for c in intent.changes:
            assert (c.attribute, 1 if c.strength > 0 else -1) in offered or c.strength == 0, (text, c)


def test_engines_json_lists_each_engine_with_its_needs_and_attributes(tmp_path):
    r = run(["engines", "--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    engines = {e["name"]: e for e in json.loads(r.stdout)["engines"]}
    assert set(engines) == set(ENGINES)
    assert engines["offline"]["available"] and engines["offline"]["needs"] == []
    assert {"id": "big_eyes", "sign": 1, "label": "bigger eyes"} in engines["offline"]["attributes"]
    assert any("chatface[diffusion]" in n for n in engines["ledits"]["needs"]) and engines["ledits"]["free_text"]
    assert engines == {e["name"]: e for e in engines_report()}
    plain = run(["engines"], tmp_path)
    assert plain.returncode == 0 and "offline: " in plain.stdout and "bigger eyes" in plain.stdout


def test_the_tool_description_names_the_engines_edits(tmp_path):
    r = run(["tools", "--format", "json-schema"], tmp_path)
    apply = next(t for t in json.loads(r.stdout) if t["name"] == "apply_attribute")
    assert "The offline engine does: a smile (smiling +)" in apply["description"] and "bigger eyes (big_eyes +)" in apply["description"]
    r = run(["tools", "--engine", "ledits", "--format", "json-schema"], tmp_path)
    apply = next(t for t in json.loads(r.stdout) if t["name"] == "apply_attribute")
    assert "glasses (eyeglasses +)" in apply["description"]


def test_every_attribute_has_peoples_words():
    vocab = default_vocabulary()
    for a in vocab.attributes.values():
        assert a.positive_label and "_" not in a.positive_label
        assert (a.negative_label is None) == (not a.has_negative) or a.exclusive, a.id


def test_the_demo_runs_its_conversation_and_writes_every_turn(tmp_path):
    """README's first command: the scripted conversation, on the default engine, with one honest refusal."""
    r = run(["demo", "--out", str(tmp_path / "demo")], tmp_path)
    assert r.returncode == 0, r.stderr
    history = json.loads((tmp_path / "demo" / "history.json").read_text())
    turns = {t["user"]: t for t in history["turns"]}
    assert "the ledits engine does it" in turns["add glasses"]["reply"]
    eyes = turns["make her eyes a little bigger and add a touch of blush"]
    assert eyes["state"].get("big_eyes", 0) > 0 and eyes["state"].get("rosy_cheeks", 0) > 0, eyes
    assert (tmp_path / "demo" / "before.png").exists() and (tmp_path / "demo" / "after.png").exists()
    assert len(list((tmp_path / "demo").glob("turn*.png"))) == len(history["turns"])
