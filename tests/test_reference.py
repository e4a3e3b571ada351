"""Edits guided by a reference photo: strengths read off the reference, the lipstick's colour taken from its lips."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from chatface.tools.reference import _matching_strength, read_reference
from chatface.tools.toolkit import SessionToolkit


def test_the_matching_strength_interpolates_between_probes_and_stops_at_the_ends():
    probes = [(0.0, 1.0), (0.3, 2.0), (0.6, 3.0), (1.0, 3.5)]
    assert _matching_strength(probes, 2.5) == pytest.approx(0.45)
    assert _matching_strength(probes, 9.0) == 1.0 and _matching_strength(probes, 0.0) == 0.0
    assert _matching_strength([(-0.6, 3.0), (0.0, 2.0), (0.6, 1.0)], 2.5) == pytest.approx(-0.3)  # a falling measure
    assert _matching_strength([(0.0, 1.0), (0.3, 2.2), (0.6, 2.0), (1.0, 3.0)], 2.5) == pytest.approx(0.75)  # a noisy probe: held flat


def _render(editor, state: dict) -> np.ndarray:
    return editor.render(state)


@pytest.mark.parametrize("attribute,strength", [("smiling", 0.6), ("big_eyes", 0.9), ("lipstick", 0.6)])
def test_a_reference_the_engine_made_at_a_strength_reads_back_that_strength(editor, attribute, strength):
    """The property that must hold for any meter and engine: a reference rendered at strength s from this very photo
    gives back about s (probes at 0.3, 0.6, 1.0 and linear interpolation between them)."""
    t = editor.t_edit_defaults([attribute]).get(attribute, 500)
    reference = _render(editor, {attribute: {"strength": strength, "t_edit": t}})
    reading = read_reference(editor, reference, [attribute])
    assert attribute in reading.strengths, reading.notes
    assert reading.strengths[attribute] == pytest.approx(strength, abs=0.2), reading


def test_the_photo_itself_as_reference_changes_nothing(editor):
    reading = read_reference(editor, editor.source, ["smiling", "big_eyes"])
    assert reading.strengths == {} and len(reading.notes) == 2 and "already shows about as much" in reading.notes[0]


def test_lipstick_takes_the_references_colour_and_the_node_rerenders_bit_for_bit(editor, tmp_path):
    t = editor.t_edit_defaults(["lipstick"]).get("lipstick", 500)
    reference = _render(editor, {"lipstick": {"strength": 0.9, "t_edit": t, "colour": "#8a2be2"}})  # a violet lipstick
    ref_path = tmp_path / "ref.png"
    Image.fromarray(reference).save(ref_path)
    tools = SessionToolkit(editor, tmp_path / "exports", reference_dirs=[tmp_path])
    text, art = tools.apply_reference(str(ref_path), ["lipstick"])
    assert art["tool"] == "apply_attribute" and art["node_seq"] == 1, text
    spec = art["state"]["lipstick"]
    r, g, b = (int(spec["colour"][i : i + 2], 16) for i in (1, 3, 5))
    assert b > g and r > g, spec  # violet read off the lips (mixed with the lips' own colour), not the default red
    assert "from a reference" in text and "lipstick" in text
    head = editor.head()
    assert np.array_equal(editor.render(head.state), editor.image_of(head))  # stored with its colour: it re-renders the same


def test_a_reference_outside_the_allowed_folders_or_without_a_face_is_refused(editor, tmp_path):
    tools = SessionToolkit(editor, tmp_path / "exports", reference_dirs=[tmp_path / "refs"])
    (tmp_path / "refs").mkdir()
    blank = tmp_path / "refs" / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    outside = tmp_path / "elsewhere.png"
    Image.fromarray(editor.source).save(outside)
    by_name = {t.name: t for t in tools.langchain_tools()}
    call = {"name": "apply_reference", "id": "1", "type": "tool_call"}
    out = by_name["apply_reference"].invoke({**call, "args": {"reference": str(outside), "take": ["smiling"]}})
    assert out.content.startswith("Error") and "outside" in out.content
    out = by_name["apply_reference"].invoke({**call, "args": {"reference": str(blank), "take": ["smiling"]}})
    assert out.content.startswith("Error") and "face" in out.content
    out = by_name["apply_reference"].invoke({**call, "args": {"take": ["smiling"]}})
    assert out.content.startswith("Error") and "no reference photo" in out.content
    assert editor.head().seq == 0  # nothing stored


def test_the_offline_planner_asks_for_a_reference_and_uses_an_attached_one(editor, photo, db_url, tmp_path):
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from chatface.tools.service import EditService

    t = editor.t_edit_defaults(["smiling"]).get("smiling", 450)
    ref_path = tmp_path / "ref.png"
    Image.fromarray(editor.render({"smiling": {"strength": 0.6, "t_edit": t}})).save(ref_path)
    config = Configuration(database_url=db_url)
    agent = ChatService(config, service=EditService(config, store=editor.store)).open_photo(photo)
    reply = agent.send("give her as much smile as in this photo")
    assert "Attach the reference photo" in reply.text and reply.head.seq == 0
    reply = agent.send("make the woman in this photo smile a little")  # "in this photo" is the photo being edited
    assert reply.head.strengths() == {"smiling": 0.3}
    agent.attach_reference(str(ref_path))
    reply = agent.send("now exactly as much smile as in this photo")
    assert reply.head.seq == 2 and 0.4 <= reply.head.strengths()["smiling"] <= 0.8, reply.text
    assert "From the reference: smiling" in reply.text


def test_cli_edit_takes_the_lipstick_of_a_reference(editor, photo, tmp_path):
    import os
    import subprocess
    import sys

    t = editor.t_edit_defaults(["lipstick"]).get("lipstick", 600)
    ref = tmp_path / "ref.png"
    Image.fromarray(editor.render({"lipstick": {"strength": 1.0, "t_edit": t, "colour": "#c01040"}})).save(ref)
    out = tmp_path / "out.png"
    env = {**os.environ, "CHATFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CHATFACE_EMBEDDINGS": "0"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatface.cli",
            "edit",
            str(photo),
            "give her the lipstick of this photo",
            "--reference",
            str(ref),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "From the reference: lipstick" in run.stdout and out.exists()
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatface.cli",
            "edit",
            str(photo),
            "the lipstick of this photo",
            "--reference",
            str(tmp_path / "nope.png"),
            "-o",
            str(tmp_path / "x.png"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode != 0 and "no such reference photo" in missing.stderr and not (tmp_path / "x.png").exists()


def test_a_reference_the_engine_cannot_go_towards_is_said_so():
    """The offline engine only adds a smile: a reference that smiles less than the photo is not "about as much"."""
    from chatface.tools.reference import _why_unchanged

    rising = [(0.0, 0.8), (0.3, 0.9), (0.6, 1.0), (1.0, 1.1)]
    assert "shows less of it than this photo, and the offline engine can only add it" in _why_unchanged(
        "smiling", rising, 0.45, 0.8, {1}, "offline"
    )
    assert "already shows about as much" in _why_unchanged("smiling", rising, 0.81, 0.8, {1}, "offline")
    assert "already shows about as much" in _why_unchanged("smiling", [(-0.3, 0.7), *rising], 0.79, 0.8, {-1, 1}, "offline")


def test_eval_edits_with_references_scores_each_pair_and_names_what_it_declined(editor, photo, tmp_path):
    """``chatface eval edits PHOTOS --reference DIR``: each attribute taken from each reference through apply_reference,
    scored by its distance to the reference's amount (closer after the edit) and by identity; a reference whose lips
    look natural is a declined row with its reason, not a success."""
    import json

    from helpers import run_cli

    photos, refs = tmp_path / "photos", tmp_path / "refs"
    photos.mkdir()
    refs.mkdir()
    Image.open(photo).save(photos / "astronaut.png")
    t = editor.t_edit_defaults(["lipstick"]).get("lipstick", 500)
    Image.fromarray(_render(editor, {"lipstick": {"strength": 0.9, "t_edit": t}})).save(refs / "red-lips.png")
    Image.fromarray(editor.source).save(refs / "natural.png")
    out = tmp_path / "report"
    run = run_cli(["eval", "edits", str(photos), "--reference", str(refs), "--attributes", "lipstick", "--out", str(out), "--no-progress"])
    assert run.returncode == 0, run.stderr
    report = json.loads((out / "report.json").read_text())
    rows = {r["reference"]: r for r in report["rows"]}
    red, natural = rows["red-lips.png"], rows["natural.png"]
    assert red["stored"] and red["closer"] and red["distance_after"] < red["distance_before"] and red["same_person"], red
    assert red["strength"] > 0.3
    assert not natural["stored"] and "natural" in natural["reply"] and "closer" in natural and not natural["closer"]
    summary = report["per_attribute"]["lipstick"]
    assert (summary["pairs"], summary["edited"], summary["declined"], summary["closer"]) == (2, 1, 1, 1)
    assert "lipstick: 1 of 2 pairs edited, 1 closer" in run.stdout
    assert (out / "sessions.db").exists()  # the evaluation's sessions, beside its report
    bad = run_cli(["eval", "edits", str(photos), "--reference", str(refs), "--attributes=-lipstick", "--out", str(out)])
    assert bad.returncode != 0 and "without a sign" in bad.stderr and "Traceback" not in bad.stderr
