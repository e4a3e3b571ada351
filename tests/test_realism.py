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


def _desaturated(image: np.ndarray, keep: float) -> np.ndarray:
    """``image`` with ``keep`` of its CIE Lab chroma: a film-muted or desaturated still."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    lab[..., 1:] *= keep
    return np.clip(np.round(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0), 0, 255).astype(np.uint8)


def _lips_chroma(image, lm) -> tuple[float, float]:
    """The median chroma of the lips and of the skin."""
    from chatface.models.engines.offline import colour

    u = fr.unit(lm)
    chroma = np.hypot(*np.moveaxis(colour.lab(image.astype(np.float32))[..., 1:], -1, 0))
    return float(np.median(chroma[fr.lips(image.shape, lm, u) > 0.5])), float(np.median(chroma[fr.skin(image, lm, u) > 0.5]))


def test_on_a_face_of_almost_no_colour_the_lipstick_is_judged_against_the_face(astronaut, parts, scorer, monkeypatch):
    """Issue 22's graded failures: on a washed-out photo a lipstick within the frame's range still glows. The offline
    lipstick gives the lips at most their own chroma plus the skin's; the realism check flags lips past that (and
    only on the lips: the frame's other colours are not the limit there)."""
    from chatface.models.engines.offline import colour

    muted = _desaturated(astronaut, 0.25)
    latent = parts.generator.invert(muted)
    lm = latent.arrays["landmarks"].astype(np.float64)
    own, skin = _lips_chroma(muted, lm)
    size = max(latent.meta["box"][2] - latent.meta["box"][0], latent.meta["box"][3] - latent.meta["box"][1])
    for strength in (0.6, 0.9):
        out = parts.generator.decode(muted, latent, {"lipstick": EditSpec(strength, 500)})
        lips, _ = _lips_chroma(out, lm)
        assert own < lips <= own + colour.LIP_GAIN_PER_SKIN_CHROMA * skin + 0.5, (own, skin, lips)
        assert scorer.score(muted, out, latent.meta["roi"], face_size=size, landmarks=lm).ok
    monkeypatch.setattr(colour, "LIP_GAIN_PER_SKIN_CHROMA", 99.0)  # the lipstick as it was: capped by the frame only
    glowing = parts.generator.decode(muted, latent, {"lipstick": EditSpec(0.9, 500)})
    assert _lips_chroma(glowing, lm)[0] > own + 1.5 * skin
    judged = scorer.score(muted, glowing, latent.meta["roi"], face_size=size, landmarks=lm)
    assert "gamut" in judged.problems, judged
    assert scorer.score(muted, glowing, latent.meta["roi"], face_size=size).ok  # without landmarks, only the frame's range


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
