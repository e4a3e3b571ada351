"""Evaluation: the dialogue-set reader, gold arithmetic, scores, the intent evaluator and the edit evaluator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chatface.configuration import Configuration
from chatface.evaluation import gold
from chatface.evaluation.dialogues import DialogueFormatError, load_dialogues
from chatface.evaluation.intents import asks_to_clarify, evaluate_intents
from chatface.evaluation.scoring import states_match, summarize
from chatface.tools.vocabulary import default_vocabulary
from helpers import run_cli

DATA = Path(__file__).resolve().parents[1] / "evaluation" / "data"
SPEC_EXAMPLE = {
    "id": "d017",
    "image": "optional/path.png",
    "tags": ["multi", "undo"],
    "turns": [
        {"user": "Hi! Can you give her a subtle smile and some glasses?", "action": "edit", "state": {"smiling": 0.3, "eyeglasses": 0.6}},
        {"user": "a bit more smile", "action": "edit", "state": {"smiling": 0.4, "eyeglasses": 0.6}},
        {"user": "actually undo that", "action": "undo", "state": {"smiling": 0.3, "eyeglasses": 0.6}},
        {"user": "thanks, that's all", "action": "none", "state": {"smiling": 0.3, "eyeglasses": 0.6}},
    ],
}


# ids whose negative direction shared/spec/intents.md defines (its "-" column)
SPEC_NEGATIVE = {
    "smiling",
    "mouth_open",
    "eyes_closed",
    "age",
    "masculine",
    "chubby",
    "big_eyes",
    "eyeglasses",
    "sunglasses",
    "hat",
    "earrings",
    "beard",
    "mustache",
    "bald",
    "bangs",
    "long_hair",
    "curly_hair",
    "makeup",
    "lipstick",
    "tanned",
    "freckles",
}


def test_development_set_is_large_and_covers_every_attribute_in_both_directions():
    dialogues = load_dialogues(DATA / "dialogues.jsonl")
    assert len(dialogues) >= 150
    seen = {(a, v > 0) for d in dialogues for t in d.turns for a, v in t.state.items()}
    vocab = default_vocabulary()
    for attr in vocab.attributes.values():
        assert (attr.id, True) in seen, attr.id
        if attr.id in SPEC_NEGATIVE:
            assert (attr.id, False) in seen, f"{attr.id} negative"
    actions = {t.action for d in dialogues for t in d.turns}
    assert actions == {"edit", "undo", "redo", "reset", "none", "clarify"}


@pytest.mark.parametrize("name", ["dialogues", "heldout", "heldout2"])
def test_gold_states_agree_with_the_spec_arithmetic(name):
    assert gold.check_jsonl(DATA / f"{name}.jsonl") == []
    built = gold.parse_text((DATA / f"{name}.txt").read_text(encoding="utf-8"))
    shipped = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert built == shipped  # the JSONL is exactly what the annotated source gives


def test_gold_arithmetic_follows_the_spec():
    states = gold.gold_states(
        [
            ["set smiling 0.3", "set eyeglasses 0.6"],
            ["more smiling 0.1"],
            ["less smiling 0.2"],
            ["less smiling 0.3"],
            ["more age 0.2"],
            ["remove beard"],
            ["remove age"],
            ["set red_hair 0.6"],
            ["set blond_hair 0.9"],
            ["undo 2"],
            ["redo 1"],
            ["undo 1", "set mustache 0.6"],
            ["reset"],
            ["undo 1"],
            ["less tanned 0.2"],
        ]
    )
    s = [st for _, st in states]
    assert s[1]["smiling"] == 0.4 and s[2]["smiling"] == 0.2 and "smiling" not in s[3]  # toward zero, stops at zero
    assert s[4]["age"] == 0.6  # relative on an absent attribute is absolute
    assert s[5]["beard"] == -0.6 and "age" not in s[6]  # the photo's own beard; an edit removed
    assert s[8] == {"eyeglasses": 0.6, "beard": -0.6, "blond_hair": 0.9}  # exclusive hair colours
    assert s[9] == s[6] and s[10] == s[7]
    assert states[11][0] == "edit" and s[11] == {**s[6], "mustache": 0.6}
    assert states[12] == ("reset", {}) and s[13] == s[11]
    assert s[14]["tanned"] == -0.6


def test_malformed_lines_are_reported_with_their_numbers(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [
        json.dumps(SPEC_EXAMPLE),
        "{not json",
        json.dumps({"id": "x", "turns": [{"user": "hi", "action": "dance", "state": {}}]}),
        "",
        json.dumps({"id": "y", "turns": [{"user": "hi", "action": "edit", "state": {"wings": 0.5}}]}),
        json.dumps({"id": "z", "turns": [{"user": "a", "action": "edit", "state": {"age": 1.5}}]}),
        json.dumps({"turns": []}),
        json.dumps(SPEC_EXAMPLE),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DialogueFormatError) as err:
        load_dialogues(path)
    numbers = [n for n, _ in err.value.problems]
    assert numbers == [2, 3, 5, 6, 7, 8]
    msg = str(err.value)
    assert "line 3" in msg and "dance" in msg and "wings" in msg and "repeats line 1" in msg


def test_scores():
    assert states_match({"smiling": 0.3}, {"smiling": 0.44})
    assert not states_match({"smiling": 0.3}, {"smiling": 0.5})
    assert not states_match({"smiling": 0.1}, {"smiling": -0.04})
    assert not states_match({"smiling": 0.3}, {"smiling": 0.3, "age": 0.6})
    rec = lambda did, ga, gs, pa, ps, gp=None, pp=None: {  # noqa: E731
        "dialogue_id": did,
        "gold_action": ga,
        "gold_state": gs,
        "pred_action": pa,
        "pred_state": ps,
        "gold_prev_state": gp or {},
        "pred_prev_state": pp or {},
        "correct": ga == pa and states_match(gs, ps),
    }
    s = summarize([rec("a", "edit", {"smiling": 0.3, "age": 0.6}, "edit", {"smiling": -0.3}), rec("b", "none", {}, "none", {})])
    assert s["turn_accuracy"] == 0.5 and s["dialogue_success"] == 0.5 and s["action_accuracy"] == 1.0
    assert s["attribute_precision"] == 1.0 and s["attribute_recall"] == 0.5 and s["sign_accuracy"] == 0.0
    assert s["strength_mae"] == pytest.approx(0.6)


def test_clarify_is_read_from_a_question_about_what_to_change():
    assert asks_to_clarify("What would you like me to change? For example: a smile.")
    assert asks_to_clarify("Could you tell me which part of her face you want to change?")
    assert not asks_to_clarify("You're welcome! Is there anything else you'd like to change?")
    assert not asks_to_clarify("Hello! I edit faces.")


def _write(tmp_path, dialogues) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in dialogues) + "\n", encoding="utf-8")
    return path


def test_intent_evaluation_replays_a_foreign_set_through_the_agent(tmp_path):
    extra = {
        "id": "other-1",
        "turns": [
            {"user": "give him a beard and make him bald", "action": "edit", "state": {"beard": 0.6, "bald": 0.6}},
            {"user": "start over", "action": "reset", "state": {}},
            {"user": "undo", "action": "undo", "state": {"beard": 0.6, "bald": 0.6}},
            {"user": "make it better", "action": "clarify", "state": {"beard": 0.6, "bald": 0.6}},
        ],
    }
    dialogues = load_dialogues(_write(tmp_path, [SPEC_EXAMPLE, extra]))
    config = Configuration().with_overrides(planner="offline", use_embeddings=False)
    report = evaluate_intents(dialogues, config, tmp_path / "out", dataset="set.jsonl", progress=False)
    for key in (
        "turn_accuracy",
        "dialogue_success",
        "action_accuracy",
        "attribute_precision",
        "attribute_recall",
        "attribute_f1",
        "sign_accuracy",
        "strength_mae",
        "per_tag",
        "latency_ms",
        "n_dialogues",
        "n_turns",
        "planner",
    ):
        assert key in report
    assert report["n_turns"] == 8 and report["turn_accuracy"] == 1.0 and report["complete"]
    assert set(report["per_tag"]) == {"multi", "undo"}
    assert set(report["latency_ms"]) == {"mean", "median", "max"}
    preds = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 8 and preds[6]["pred_action"] == "undo" and preds[6]["pred_state"] == {"beard": 0.6, "bald": 0.6}
    for key in ("dialogue_id", "turn", "user", "gold_action", "gold_state", "pred_action", "pred_state", "correct", "latency_ms"):
        assert key in preds[0]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "turn_accuracy" in md and "Failed turns (0)" in md
    for png in ("accuracy_per_tag.png", "action_confusion.png", "latency_hist.png"):
        assert (tmp_path / "out" / png).stat().st_size > 1000


def test_ctrl_c_leaves_a_valid_partial_report(tmp_path):
    from chatface.agent.planners.offline import OfflinePlanner

    class StopsAtSecondDialogue(OfflinePlanner):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if any("STOP" in str(m.content) for m in messages):
                raise KeyboardInterrupt
            return super()._generate(messages, stop, run_manager, **kwargs)

    second = {
        "id": "two",
        "turns": [
            {"user": "add glasses", "action": "edit", "state": {"eyeglasses": 0.6}},
            {"user": "STOP now", "action": "none", "state": {"eyeglasses": 0.6}},
        ],
    }
    dialogues = load_dialogues(_write(tmp_path, [SPEC_EXAMPLE, second]))
    config = Configuration().with_overrides(planner="offline", use_embeddings=False)
    report = evaluate_intents(dialogues, config, tmp_path / "out", planner=StopsAtSecondDialogue(use_embeddings=False), progress=False)
    assert report["interrupted"] and not report["complete"]
    assert report["n_dialogues"] == 1 and report["n_turns"] == 4  # the cut-off dialogue is left out whole
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["interrupted"] and len((tmp_path / "out" / "predictions.jsonl").read_text().splitlines()) == 4


def test_endpoint_errors_are_counted_not_fatal(tmp_path):
    dialogues = load_dialogues(_write(tmp_path, [SPEC_EXAMPLE]))
    config = Configuration().with_overrides(
        planner="openai", model="nobody", base_url="http://127.0.0.1:9/v1", api_key="x", llm_max_retries=0, llm_timeout_s=2.0
    )
    report = evaluate_intents(dialogues, config, tmp_path / "out", progress=False)
    assert report["endpoint_errors"] == 4 and report["turn_accuracy"] == 0.0
    assert report["action_confusion"]["edit"] == {"error": 2}
    preds = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert all("endpoint failed" in p["error"] for p in preds)


def test_offline_planner_reaches_90_percent_on_the_development_set(tmp_path):
    dialogues = load_dialogues(DATA / "dialogues.jsonl")
    report = evaluate_intents(dialogues, Configuration().with_overrides(planner="offline"), tmp_path / "out", progress=False)
    assert report["turn_accuracy"] >= 0.9, report["turn_accuracy"]
    assert report["endpoint_errors"] == 0


def test_cli_eval_intents_and_edits(tmp_path, astronaut):
    import numpy as np
    from PIL import Image

    path = _write(tmp_path, [SPEC_EXAMPLE])
    run = run_cli(["eval", "intents", str(path), "--out", str(tmp_path / "ei"), "--no-embeddings", "--no-progress"])
    assert run.returncode == 0, run.stderr
    assert "turn accuracy 1.0" in run.stdout and (tmp_path / "ei" / "report.json").exists()

    run = run_cli(["eval", "intents", "--limit", "2", "--out", str(tmp_path / "ed"), "--no-embeddings", "--no-progress"])
    assert run.returncode == 0, run.stderr  # without a file: the bundled development set
    assert json.loads((tmp_path / "ed" / "report.json").read_text())["dataset"].endswith("evaluation/data/dialogues.jsonl")

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    run = run_cli(["eval", "intents", str(bad), "--out", str(tmp_path / "eb")])
    assert run.returncode == 1 and "line 1" in run.stderr and "Traceback" not in run.stderr

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "astronaut.png")
    Image.fromarray(np.full((120, 120, 3), 200, np.uint8)).save(photos / "wall.png")
    (photos / "notes.txt").write_text("not a photo")
    run = run_cli(
        [
            "eval",
            "edits",
            str(photos),
            "--attributes",
            "smiling,-smiling,lipstick,age",
            "--strengths",
            "0.3,0.9",
            "--out",
            str(tmp_path / "ee"),
            "--no-progress",
        ]
    )
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "ee" / "report.json").read_text())
    assert [s["photo"].endswith("wall.png") for s in report["photos_skipped"]] == [True]
    # a withdrawn direction is reported as unsupported, never scored as if it had been drawn
    assert {"age", "-smiling"} <= set(report["unsupported"]) and set(report["per_attribute"]) == {"smiling", "lipstick"}
    row = report["per_attribute"]["smiling"]["+0.90"]
    assert row["same_person_rate"] == 1.0 and row["direction"] > 0.1 and row["ssim_outside"] == 1.0
    assert report["per_attribute"]["smiling"]["+0.90"]["identity"] < report["per_attribute"]["smiling"]["+0.30"]["identity"]
    assert "lpips" in report["not_computed"]
    assert (tmp_path / "ee" / "scores_vs_strength.png").exists() and (tmp_path / "ee" / "contact_astronaut.png").exists()

    run = run_cli(["eval", "edits", str(photos), "--attributes", "wings", "--out", str(tmp_path / "x")])
    assert run.returncode == 1 and "unknown attribute 'wings'" in run.stderr
