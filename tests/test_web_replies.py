"""The web page's plain replies: what was done in words, what the self-check kept and why, the numbers folded away."""

import pytest

from chatface.interfaces.web_replies import plain_reply
from chatface.memory.store import StoredAttempt
from chatface.tools.results import EditOutcome


def _scores(same_person=True, distance=0.3, problems=None):
    return {
        "identity": 1 - distance,
        "identity_distance": distance,
        "same_person": same_person,
        "direction": {"smiling": 0.3},
        "direction_ok": {"smiling": True},
        "realism": {"seam": 0.0, "texture": 0.0, "gamut": 0.0, "visible": 5.0, "problems": problems or {}},
    }


def _outcome(**kw) -> EditOutcome:
    """An outcome as a client receives it (the artifact's JSON), parsed as the page parses it."""
    base = dict(
        tool="apply_attribute",
        node_seq=1,
        state={"smiling": {"strength": 0.3, "t_edit": 450}},
        parent_state={},
        changed=["smiling"],
        applied=True,
        passed=True,
        scores=_scores(),
        unsupported={},
        not_done=[],
        self_check=None,
        visible_changes=["smiling"],
        removed=[],
        attempts=1,
        asked={"smiling": 0.3},
    )
    return EditOutcome.from_artifact({**base, **kw})


def test_an_outcome_survives_its_json_form_and_another_tools_result_is_refused():
    o = _outcome(self_check="kept weaker", self_check_reason="identity")
    again = EditOutcome.from_artifact(o.artifact())
    assert again.state == o.state and again.scores == o.scores and again.self_check_reason.value == "identity"
    assert again.scores is not None and again.scores.realism is not None and again.scores.realism.ok
    assert EditOutcome.of({"tool": "undo", "node_seq": 0}) is None
    with pytest.raises(ValueError, match="not an apply_attribute result"):
        EditOutcome.from_artifact({"tool": "undo", "node_seq": 0})


def test_a_plain_edit_reads_as_done_and_same_person():
    r = plain_reply("Applied (history node 1): now smiling +0.30. Check: identity 0.9 ...", [_outcome()])
    assert r.text == "Done: smile (subtle). It still looks like the same person."
    assert "identity 0.9" in r.details


def test_a_subtle_request_kept_stronger_says_so_and_why():
    o = _outcome(
        state={"smiling": {"strength": 0.65, "t_edit": 300}},
        asked={"smiling": 0.3},
        attempts=3,
        self_check="Self-check: the smiling change was too weak at smiling +0.30; kept smiling +0.65 after 2 more attempt(s).",
        self_check_reason="too_weak",
    )
    realism = {"seam": 0.0, "texture": 0.0, "gamut": 0.0, "visible": 5.0, "problems": {}}
    attempts = {
        1: [
            StoredAttempt(
                1, {"smiling": {"strength": 0.3, "t_edit": 450}}, 0.8, 0.2, {"smiling": 0.02}, realism, passed=False, kept=False, note=""
            ),
            StoredAttempt(
                3, {"smiling": {"strength": 0.65, "t_edit": 300}}, 0.7, 0.3, {"smiling": 0.4}, realism, passed=True, kept=True, note=""
            ),
        ]
    }
    r = plain_reply("technical", [o], attempts)
    assert "smile +0.65 instead of the subtle +0.30 you asked for: weaker, the change could not be seen on this photo" in r.text
    rows = [line for line in r.details.splitlines() if line.startswith("| 3") or line.startswith("| 1")]
    assert rows[0].startswith("| 3") and "**kept**" in rows[0]  # the kept attempt first
    assert "needs" not in r.text and "2 attempts" in r.details


def test_what_could_not_be_done_and_a_failed_identity_are_said():
    o = _outcome(
        not_done=[
            'Not applied: the offline engine cannot do "a pirate hat" (free-text concepts need a text-driven engine (--engine ledits)).'
        ],
        scores=_scores(same_person=False, distance=0.7, problems={"seam": "a visible seam"}),
        visible_changes=[],
        changed=["smiling"],
    )
    r = plain_reply("x", [o])
    assert r.text.startswith('Not applied: the offline engine cannot do "a pirate hat"')
    assert "too weak to see" in r.text and "no longer matches the original person" in r.text and "a visible seam" in r.text


def test_a_reply_without_edits_is_the_planner_text():
    assert plain_reply("What would you like to change?", []).text == "What would you like to change?"


def test_why_a_strength_was_kept_comes_from_the_reason_not_the_notes_wording():
    """Rewording a self-check note changes nothing in the reply: the reply reads the reason's value."""
    for reason, why in (
        ("identity", "the face no longer looked like the same person"),
        ("artefacts", "it did not look like a photograph"),
        ("too_weak", "the change could not be seen"),
    ):
        o = _outcome(
            state={"smiling": {"strength": 0.2, "t_edit": 300}},
            asked={"smiling": 0.6},
            attempts=3,
            self_check="Self-check: any words at all.",
            self_check_reason=reason,
        )
        assert why in plain_reply("technical", [o]).text, reason


def test_a_style_from_a_reference_is_said_apart_from_the_measured_attributes():
    from chatface.interfaces.web_replies import edit_sentences
    from chatface.models.base import STYLE_PREFIX, EditSpec
    from chatface.tools.results import EditOutcome

    key = STYLE_PREFIX + "a" * 64
    state = {key: EditSpec(0.6, 400), "smiling": EditSpec(0.3, 500)}
    outcome = EditOutcome(
        1, state, {}, [key, "smiling"], applied=True, passed=True, visible_changes=[key, "smiling"], from_reference=[key, "smiling"]
    )
    assert edit_sentences(outcome)[:2] == [
        "From the reference photo: smile (subtle), as much as it shows.",
        "From the reference photo: its style (medium), with this face kept.",
    ]
