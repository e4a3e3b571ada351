"""h-space content injection (models/engines/diffusion/injection.py) on the tiny random U-Net: the properties the
method must have whatever the weights, and a style taken from a reference photo through the diffusion engine."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_extra

torch = require_extra("torch", "diffusion")

from chatface.models.base import STYLE_PREFIX, EditSpec, UnsupportedAttributeError
from chatface.models.engines.diffusion import ddim, injection


@pytest.fixture(scope="module")
def dparts(tiny_diffusion):
    from chatface.models.engines.catalog import load_engine

    return load_engine("diffusion", models_dir=str(tiny_diffusion), diffusion_options={"device": "cpu", "dtype": "float32", "steps": 8})


@pytest.fixture(scope="module")
def noises(dparts):
    g = torch.Generator().manual_seed(0)
    size = dparts.generator.size
    return torch.randn(1, 3, size, size, generator=g), torch.randn(1, 3, size, size, generator=g)


def test_slerp_keeps_the_norm_of_two_equal_norm_vectors_and_ends_at_both():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(2, 64, 4, 4, generator=g), torch.randn(2, 64, 4, 4, generator=g)
    b = b * (a.flatten(1).norm(dim=1) / b.flatten(1).norm(dim=1))[:, None, None, None]
    for w in (0.0, 0.3, 0.5, 0.9, 1.0):
        mixed = injection.slerp(a, b, w)
        assert torch.allclose(mixed.flatten(1).norm(dim=1), a.flatten(1).norm(dim=1), rtol=1e-5)
    assert torch.allclose(injection.slerp(a, b, 0.0), a, atol=1e-6) and torch.allclose(injection.slerp(a, b, 1.0), b, atol=1e-5)
    assert torch.allclose(injection.slerp(a, a, 0.4), a, atol=1e-6)  # parallel vectors: no division by sin(0)
    with pytest.raises(ValueError):
        injection.slerp(a, b, 1.5)


def test_the_blend_keeps_the_references_norm_whatever_the_contents():
    g = torch.Generator().manual_seed(2)
    h_ref, h_content = torch.randn(1, 64, 4, 4, generator=g), 7.0 * torch.randn(1, 64, 4, 4, generator=g)
    for gamma in (0.2, 0.5, 1.0):
        mixed = injection.inject(h_ref, h_content, gamma)
        assert float(mixed.norm()) == pytest.approx(float(h_ref.norm()), rel=1e-5)
    # at weight 1 it is the content's direction at the reference's norm
    full = injection.inject(h_ref, h_content, 1.0)
    assert torch.allclose(full / full.norm(), h_content / h_content.norm(), atol=1e-5)


def _reconstruction(gen, x_t, steps=8):
    return ddim.sample(lambda x, t: gen.unet(x, t).sample, gen.scheduler, x_t, steps)


def test_weight_zero_is_the_references_plain_reconstruction(dparts, noises):
    gen = dparts.generator
    x_ref, x_user = noises
    out = injection.content_injection(gen.unet, gen.scheduler, x_ref, x_user, 0.0, 0, 8)
    assert torch.allclose(out, _reconstruction(gen, x_ref), atol=1e-4)


def test_a_reference_equal_to_the_photo_changes_nothing(dparts, noises):
    gen = dparts.generator
    x_user = noises[1]
    out = injection.content_injection(gen.unet, gen.scheduler, x_user.clone(), x_user, 0.5, 0, 8)
    assert torch.allclose(out, _reconstruction(gen, x_user), atol=1e-4)


def test_the_content_reaches_the_references_process_only_at_the_injected_steps(dparts, noises):
    gen = dparts.generator
    x_ref, x_user = noises
    plain_ref = _reconstruction(gen, x_ref)
    full = injection.content_injection(gen.unet, gen.scheduler, x_ref, x_user, 1.0, 0, 8)
    assert float((full - plain_ref).abs().mean()) > 1e-3
    passes = {"encoder": 0, "decoder": 0}
    late = injection.content_injection(gen.unet, gen.scheduler, x_ref, x_user, 1.0, 10_000, 8, passes=passes)  # no step is t >= 10000
    assert torch.allclose(late, plain_ref, atol=1e-4) and passes == {"encoder": 8, "decoder": 8}


def test_content_weight_maps_style_strength_and_refuses_what_is_not_one():
    assert injection.content_weight(1.0) == pytest.approx(injection.MIN_CONTENT)
    assert injection.content_weight(0.3) > injection.content_weight(0.9)
    for bad in (0.0, -0.2, 1.2):
        with pytest.raises(ValueError):
            injection.content_weight(bad)


def test_the_engine_renders_a_style_from_a_reference_and_refuses_one_without_it(dparts, astronaut):
    gen = dparts.generator
    latent = gen.invert(astronaut)
    reference = np.ascontiguousarray(astronaut[:, ::-1])  # the same face mirrored: a reference photo with a face in it
    key = STYLE_PREFIX + "0" * 64
    styled = gen.decode(astronaut, latent, {key: EditSpec(0.6, injection.STYLE_T_EDIT, reference=reference)})
    again = gen.decode(astronaut, latent, {key: EditSpec(0.6, injection.STYLE_T_EDIT, reference=reference)})
    assert np.array_equal(styled, again)  # re-renders bit for bit (the reference's inversion is deterministic)
    assert np.abs(styled.astype(int) - astronaut).mean() > 0.5
    region = gen.edit_region(astronaut, latent)
    assert np.array_equal(styled[~region], astronaut[~region])  # only the face's square is pasted back
    with_smile = gen.decode(
        astronaut, latent, {key: EditSpec(0.6, injection.STYLE_T_EDIT, reference=reference), "smiling": EditSpec(1.0, 500)}
    )
    assert not np.array_equal(with_smile, styled)  # the other attributes are edited in the user's process
    with pytest.raises(UnsupportedAttributeError, match="reference photo of this style was not given"):
        gen.decode(astronaut, latent, {key: EditSpec(0.6, 400)})
    with pytest.raises(UnsupportedAttributeError, match="never taken away"):
        gen.decode(astronaut, latent, {key: EditSpec(-0.6, 400, reference=reference)})


def test_the_offline_engine_says_a_style_needs_the_diffusion_engine(parts, astronaut, latent):
    with pytest.raises(UnsupportedAttributeError, match="needs the diffusion engine"):
        parts.generator.decode(astronaut, latent, {STYLE_PREFIX + "0" * 64: EditSpec(0.6, 400, reference=astronaut)})


def test_paint_me_in_the_style_of_this_portrait_through_the_chat(tiny_diffusion, tmp_path, astronaut):
    """The chat with the diffusion engine: the planner takes 'style' from the attached reference, the tool stores the
    reference with the session and the node names it by its key; the node re-renders bit for bit, undo removes it,
    and the offline engine answers the same request with the engine that can."""
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from chatface.models.base import style_digest
    from PIL import Image

    photo, ref = tmp_path / "me.png", tmp_path / "portrait.png"
    Image.fromarray(astronaut).save(photo)
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(ref)
    config = Configuration(
        engine="diffusion", models_dir=str(tiny_diffusion), device="cpu", dtype="float32", steps=6, max_attempts=0,
        database_url=f"sqlite:///{tmp_path / 's.db'}", use_embeddings=False,
    )  # fmt: skip
    agent = ChatService(config).open_photo(photo)
    reply = agent.send("paint me in the style of this portrait", reference=str(ref))
    head = agent.toolkit.editor.head()
    (key,) = [k for k in head.state if style_digest(k) is not None]
    assert head.seq == 1 and head.state[key]["strength"] == 0.6, reply.text
    assert "its style at 0.60" in reply.text, reply.text
    editor = agent.toolkit.editor
    assert np.array_equal(editor.render(head.state), editor.image_of(head))  # the stored reference re-renders the node
    assert editor.store.read_blob(style_digest(key))[:4] == b"\x89PNG"
    reply = agent.send("a touch of the style of this photo", reference=str(ref))
    assert editor.head().state[key]["strength"] == 0.3, reply.text
    agent.send("undo that")
    agent.send("undo")
    assert editor.head().seq == 0 and not editor.head().state
    # strengths read off the reference go through the same tool on this engine (random weights: whatever it finds,
    # the reply says it, and a node exists exactly when something was taken)
    reply = agent.send("as much smile as in this photo", reference=str(ref))
    took = reply.text.startswith("From the reference: smiling")
    assert took or reply.text.startswith("Nothing taken from the reference: smiling"), reply.text
    assert (editor.head().seq > 0) == took

    offline = ChatService(Configuration(database_url=f"sqlite:///{tmp_path / 'o.db'}", use_embeddings=False)).open_photo(photo)
    reply = offline.send("paint me in the style of this portrait", reference=str(ref))
    assert "diffusion engine does (--engine diffusion)" in reply.text and offline.toolkit.editor.head().seq == 0, reply.text
