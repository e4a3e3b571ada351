"""Issue 11's realism check: deliberately broken edits fail it, the kept edits pass it, the self-check acts on it.

The broken edits are drawn by the tests on the astronaut's cheek: a hard-edged colour patch (a seam), a neon
green disc (colours the photo never had), a flat fill (texture lost). Replies never say "Applied" for a change
too weak to see, open with what was not done, and say when a value is at its limit.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from chatface.agent.planners.offline import OfflinePlanner
from chatface.models.base import EditSpec, EngineParts
from chatface.models.engines.offline.engine import OfflineEngine
from chatface.models.faces import regions as fr
from chatface.models.scorers.realism import RealismScorer
from chatface.tools.editor import open_photo
from chatface.tools.schemas import AttributeEdit
from chatface.tools.toolkit import SessionToolkit
from helpers import chat_agent


def _cheek_disc(latent, shape, radius_units=0.25, on="cheek") -> np.ndarray:
    lm = latent.arrays["landmarks"]
    u = fr.unit(lm)
    centre = (lm[2] + lm[31]) / 2 if on == "cheek" else (lm[21] + lm[22]) / 2 - np.array([0.0, 0.45 * u])  # forehead
    mask = np.zeros(shape[:2], np.float32)
    cv2.circle(mask, tuple(centre.astype(int)), int(radius_units * u), 1.0, -1)
    return mask


def _paint(image, mask, colour, alpha) -> np.ndarray:
    out = image.astype(np.float32) * (1 - mask[..., None] * alpha) + mask[..., None] * alpha * np.array(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def scorer():
    return RealismScorer()


def test_a_hard_edged_colour_patch_fails_on_its_seam(astronaut, latent, scorer):
    broken = _paint(astronaut, _cheek_disc(latent, astronaut.shape), (200, 120, 100), 0.8)
    r = scorer.score(astronaut, broken, latent.meta["roi"])
    assert not r.ok and "seam" in r.problems, r
    # the same colour, feathered like a real blush, has no seam
    soft = _paint(astronaut, cv2.GaussianBlur(_cheek_disc(latent, astronaut.shape), (0, 0), 8.0), (200, 120, 100), 0.8)
    assert "seam" not in scorer.score(astronaut, soft, latent.meta["roi"]).problems


def test_neon_colours_and_a_flat_fill_fail(astronaut, latent, scorer):
    disc = _cheek_disc(latent, astronaut.shape)
    neon = scorer.score(astronaut, _paint(astronaut, disc, (0, 255, 0), 0.8), latent.meta["roi"])
    assert "gamut" in neon.problems
    flat = astronaut.copy()
    flat[disc > 0] = astronaut[disc > 0].mean(0).astype(np.uint8)
    assert "texture" in scorer.score(astronaut, flat, latent.meta["roi"]).problems


def test_an_untouched_or_invisible_change_is_reported_as_invisible(astronaut, latent, scorer):
    assert scorer.score(astronaut, astronaut.copy(), latent.meta["roi"]).invisible
    faint = _paint(astronaut, _cheek_disc(latent, astronaut.shape), (200, 120, 100), 0.03)
    assert scorer.score(astronaut, faint, latent.meta["roi"]).invisible


@pytest.mark.parametrize(
    "attribute,strength",
    [("smiling", 0.3), ("smiling", 0.6), ("smiling", 0.9), ("lipstick", 0.3), ("lipstick", 0.6), ("lipstick", 0.9), ("lipstick", -0.9)],
)
def test_the_kept_offline_edits_pass_on_the_astronaut(astronaut, latent, parts, scorer, attribute, strength):
    out = parts.generator.decode(astronaut, latent, {attribute: EditSpec(strength, 500)})
    r = scorer.score(astronaut, out, latent.meta["roi"])
    assert r.ok, r


class PatchingEngine(OfflineEngine):
    """The offline engine with a deliberately broken lipstick: above 0.45 it also pastes a hard-edged patch on the forehead."""

    def decode(self, image, latent, edits):
        out = super().decode(image, latent, edits)
        s = edits.get("lipstick")
        if s is not None and s.strength > 0.45:
            out = _paint(out, _cheek_disc(latent, image.shape, on="forehead"), (200, 120, 100), 0.8)
        return out


def test_the_self_check_backs_off_an_edit_that_shows_a_seam_and_stores_the_attempts(store, parts, photo, tmp_path):
    broken = EngineParts(PatchingEngine(), parts.identity, parts.direction, "test-patching")
    editor = open_photo(store, broken, str(photo))
    text, art = SessionToolkit(editor).apply_attribute([AttributeEdit(attribute="lipstick", strength=0.9)])
    assert "Self-check" in text and "did not look like a photograph" in text, text
    kept = editor.head().strengths()["lipstick"]
    assert 0 < kept <= 0.45 and art["passed"] and art["scores"]["realism"]["ok"]
    assert art["self_check_reason"] == "artefacts"
    attempts = store.attempts(editor.session_id, editor.head().id)
    assert attempts[0].realism["problems"].get("seam") and not attempts[0].kept
    assert any(a.kept and a.realism["ok"] for a in attempts[1:])


def test_a_change_too_weak_to_see_is_never_called_applied(editor, tmp_path):
    editor.thresholds = type(editor.thresholds)(max_attempts=0)  # check and report only
    text, art = SessionToolkit(editor).apply_attribute([AttributeEdit(attribute="lipstick", strength=-0.1)])
    assert not art["applied"] and not text.startswith("Applied") and "Not visible" in text, text
    assert art["scores"]["realism"]["problems"]["visible"]


def test_the_reply_opens_with_what_was_not_done_and_names_the_limit(editor, tmp_path):
    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path)
    r = agent.send("add red lipstick and green eyes")
    assert r.text.startswith("Not applied: green eyes: the offline engine withdrew it"), r.text
    assert r.head.strengths() == {"lipstick": 0.6}
    kit = SessionToolkit(editor)
    kit.apply_attribute([AttributeEdit(attribute="lipstick", strength=1.0)])
    text, art = kit.apply_attribute([AttributeEdit(attribute="lipstick", strength=0.3)], mode="change")
    assert "at its limit (+1.00) already" in text and not art["applied"]
