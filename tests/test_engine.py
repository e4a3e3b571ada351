"""The offline engine on a real photo (scikit-image's astronaut)."""

import numpy as np
import pytest
from chatface.models.base import EditSpec, UnsupportedAttributeError
from chatface.models.engines.offline.engine import WITHDRAWN

ATTRS = ["smiling", "lipstick"]


def _edit(parts, image, latent, **kw):
    return parts.generator.decode(image, latent, {a: EditSpec(s, 500) for a, s in kw.items()})


def test_strength_zero_is_the_identity(parts, astronaut, latent):
    out = _edit(parts, astronaut, latent, smiling=0.0, lipstick=0.0)
    assert np.array_equal(out, astronaut)


@pytest.mark.parametrize("attr", ATTRS)
def test_direction_grows_with_strength_and_identity_holds(parts, astronaut, latent, attr):
    scores = []
    for s in (0.3, 0.6, 1.0):
        out = _edit(parts, astronaut, latent, **{attr: s})
        scores.append(parts.direction.direction(astronaut, out, "", "", attribute=attr, strength_sign=1, face_hint=latent))
        if s == 0.6:
            ident = parts.identity.score(astronaut, out, latent)
            assert ident.same_person, (attr, ident)
    assert scores[0] < scores[1] + 0.02 < scores[2] + 0.04, (attr, scores)
    assert scores[1] > 0.1, (attr, scores)


@pytest.mark.parametrize("attr", ["lipstick"])
def test_negative_direction(parts, astronaut, latent, attr):
    out = _edit(parts, astronaut, latent, **{attr: -0.8})
    assert parts.direction.direction(astronaut, out, "", "", attribute=attr, strength_sign=-1, face_hint=latent) > 0.1


def test_pixels_far_from_the_edit_are_unchanged(parts, astronaut, latent):
    out = _edit(parts, astronaut, latent, smiling=1.0, lipstick=1.0)
    x0, y0, x1, y1 = latent.meta["roi"]
    outside = np.ones(astronaut.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], astronaut[outside])
    # the lower half of the photo (the suit) is far from a lipstick edit
    lip = _edit(parts, astronaut, latent, lipstick=1.0)
    assert np.array_equal(lip[300:], astronaut[300:])
    changed = np.argwhere((lip != astronaut).any(2))
    lips = latent.arrays["landmarks"][48:60]
    assert changed[:, 0].min() >= lips[:, 1].min() - 15 and changed[:, 0].max() <= lips[:, 1].max() + 15


def test_rendering_is_deterministic_and_from_the_source(parts, astronaut, latent):
    a = _edit(parts, astronaut, latent, smiling=0.6, lipstick=0.5)
    b = _edit(parts, astronaut, latent, smiling=0.6, lipstick=0.5)
    assert np.array_equal(a, b)


def test_unsupported_attribute_raises(parts, astronaut, latent):
    with pytest.raises(UnsupportedAttributeError) as err:
        _edit(parts, astronaut, latent, beard=0.6)
    assert "beard" in err.value.unsupported
    with pytest.raises(UnsupportedAttributeError):
        _edit(parts, astronaut, latent, smiling=-0.6)


@pytest.mark.parametrize("attr", sorted(WITHDRAWN))
def test_withdrawn_attributes_are_refused_and_say_so(parts, astronaut, latent, attr):
    with pytest.raises(UnsupportedAttributeError) as err:
        _edit(parts, astronaut, latent, **{attr: 0.6})
    assert "did not pass for a photograph, so it is withdrawn" in err.value.unsupported[attr]
    assert attr not in parts.generator.supported_attributes()
