"""The diffusion engine on tiny random-weight models: loading, DDIM arithmetic, h-space edits, alignment, ArcFace, training.

The tiny models have the real architectures (diffusers UNet2DModel + DDIMScheduler,
mapping networks, open_clip CLIP, an ArcFace-shaped ONNX network) and are built
by the same code as ``chatface models make-tiny``; their edits are meaningless.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_extra, run_cli

torch = require_extra("torch", "diffusion")

from chatface.models.base import EditSpec
from chatface.models.engines.diffusion import ddim


@pytest.fixture(scope="session")
def dparts(tiny_diffusion):
    from chatface.models.engines.catalog import load_engine

    return load_engine("diffusion", models_dir=str(tiny_diffusion), diffusion_options={"device": "cpu", "dtype": "float32", "steps": 10})


@pytest.fixture(scope="session")
def dlatent(dparts, astronaut):
    return dparts.generator.invert(astronaut)


def test_tiny_models_round_trip_through_the_real_loaders(tiny_diffusion, dparts):
    from diffusers import UNet2DModel
    from safetensors.torch import load_file

    gen = dparts.generator
    again = UNet2DModel.from_pretrained(str(tiny_diffusion / "unet"))
    for (name, a), (_, b) in zip(gen.unet.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), name
    assert type(gen.unet).__name__ == "UNet2DModel" and type(gen.scheduler).__name__ == "DDIMScheduler"
    assert len(gen.mappings.available()) == 41 and gen.supported_attributes()["age"] == (True, True)
    net = gen.mappings.get("smiling")
    saved = load_file(str(tiny_diffusion / "mappings" / "smiling.safetensors"))
    assert all(torch.equal(saved[k], v) for k, v in net.state_dict().items())
    assert gen.mappings.infos["smiling"]["both"].meta["text"]["positive"] == "a smiling face"
    assert dparts.identity.input_size == 112 and dparts.identity.session is not None  # our ONNX runs as a recognition model
    assert dparts.direction.model.visual is not None


def test_ddim_inversion_is_exact_when_the_noise_does_not_depend_on_the_sample():
    from chatface.models.weights.tiny import SCHEDULER_CONFIG
    from diffusers import DDIMScheduler

    sched = DDIMScheduler(**SCHEDULER_CONFIG)
    g = torch.Generator().manual_seed(0)
    base = torch.randn(1, 3, 8, 8, generator=g, dtype=torch.float64)

    def noise(x, t):
        return base * np.sin(t / 100.0)

    x0 = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64) * 2 - 1
    for steps in (10, 50):
        x_t = ddim.invert(noise, sched, x0, steps)
        assert not torch.allclose(x_t, x0)
        assert torch.allclose(ddim.sample(noise, sched, x_t, steps), x0, atol=1e-9)


def test_our_reverse_step_is_the_schedulers_eta0_step():
    from chatface.models.weights.tiny import SCHEDULER_CONFIG
    from diffusers import DDIMScheduler

    sched = DDIMScheduler(**SCHEDULER_CONFIG)
    pairs = ddim.pairs(sched, 20)
    x, eps = torch.randn(1, 3, 8, 8), torch.randn(1, 3, 8, 8)
    for t, t_next in (pairs[0], pairs[7], pairs[-1]):
        ours = ddim.ddim_step(x, eps, ddim.alpha_bar(sched, t), ddim.alpha_bar(sched, t_next))
        theirs = sched.step(eps, t, x, eta=0.0).prev_sample
        assert torch.allclose(ours, theirs, atol=1e-5)


def test_inversion_is_stored_compactly_and_decoding_is_deterministic(dparts, dlatent):
    gen = dparts.generator
    assert dlatent.arrays["x_T"].dtype == np.float16 and dlatent.arrays["x_T"].shape == (1, 3, 32, 32)
    a = gen.render_aligned(dlatent, {})
    b = gen.render_aligned(dlatent, {})
    assert a.shape == (32, 32, 3) and np.array_equal(a, b)


def test_zero_strength_reproduces_the_reconstruction_bit_for_bit(dparts, dlatent):
    gen = dparts.generator
    recon = gen.render_aligned(dlatent, {})
    zero = gen.render_aligned(dlatent, {"smiling": EditSpec(0.0, 450), "age": EditSpec(0.0, 300)})
    assert np.array_equal(recon, zero) and gen.last_applied_steps == []


def test_the_change_grows_with_strength(dparts, dlatent):
    gen = dparts.generator
    recon = gen.render_aligned(dlatent, {}).astype(float)
    changes = [np.abs(gen.render_aligned(dlatent, {"age": EditSpec(s, 0)}).astype(float) - recon).mean() for s in (0.05, 0.3, 1.0)]
    assert 0 < changes[0] < changes[1] < changes[2], changes


def test_t_edit_limits_the_steps_that_are_touched(dparts, dlatent):
    gen = dparts.generator
    ts = ddim.timesteps(gen.scheduler, 10)
    gen.render_aligned(dlatent, {"smiling": EditSpec(1.0, 500)})
    assert gen.last_applied_steps == [t for t in ts if t >= 500] and len(gen.last_applied_steps) < len(ts)
    late_only = gen.render_aligned(dlatent, {"smiling": EditSpec(1.0, 999)})
    assert gen.last_applied_steps == [] and np.array_equal(late_only, gen.render_aligned(dlatent, {}))


def test_several_attributes_cost_one_pass(dparts, dlatent):
    gen = dparts.generator
    gen.render_aligned(dlatent, {"smiling": EditSpec(0.6, 450)})
    one, one_steps = dict(gen.last_passes), list(gen.last_applied_steps)
    three = {"smiling": EditSpec(0.6, 450), "eyeglasses": EditSpec(0.6, 600), "age": EditSpec(0.6, 300)}
    two = gen.render_aligned(dlatent, three)
    # one encoder pass per step; the decoder runs twice (original and edited h, one batch) only at edited steps
    assert one == {"encoder": 10, "decoder": 10 + len(one_steps)}
    assert gen.last_passes == {"encoder": 10, "decoder": 10 + len(gen.last_applied_steps)}
    assert gen.last_applied_steps == [t for t in ddim.timesteps(gen.scheduler, 10) if t >= 300]
    only_smile = gen.render_aligned(dlatent, {"smiling": EditSpec(0.6, 450)})
    assert not np.array_equal(two, only_smile)


def test_alignment_and_paste_back_keep_every_pixel_outside_the_face(astronaut, dparts, dlatent):
    from chatface.models.faces.alignment import Alignment, paste_back

    al = Alignment.from_meta(dlatent.meta)
    noise = np.random.default_rng(0).integers(0, 256, (al.size, al.size, 3), dtype=np.uint8)
    out, mask = paste_back(astronaut, noise, al)
    outside = mask == 0
    assert outside.mean() > 0.5 and np.array_equal(out[outside], astronaut[outside])
    x0, y0, x1, y1 = dlatent.meta["box"]
    assert mask[(y0 + y1) // 2, (x0 + x1) // 2] == 1.0  # the face centre is fully replaced
    edited = dparts.generator.decode(astronaut, dlatent, {"eyeglasses": EditSpec(1.0, 0)})
    region = dparts.generator.edit_region(astronaut, dlatent)
    assert edited.shape == astronaut.shape and np.array_equal(edited[~region], astronaut[~region])
    assert not np.array_equal(edited[region], astronaut[region])


def test_arcface_onnx_is_loaded_by_insightface_and_scores(dparts, astronaut, dlatent):
    same = dparts.identity.score(astronaut, astronaut, dlatent)
    assert same.similarity == pytest.approx(1.0, abs=1e-5) and same.same_person
    other = dparts.identity.score(astronaut, np.ascontiguousarray(astronaut[:, ::-1]), dlatent)
    assert other.similarity < 0.9999
    d = dparts.direction.direction(astronaut, astronaut[::-1].copy(), "a face", "a smiling face", face_hint=dlatent)
    assert -1.0 <= d <= 1.0


def test_inversion_is_computed_once_per_photo_and_reused(store, dparts, photo, monkeypatch):
    from chatface.tools.editor import SessionEditor, open_photo
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.toolkit import SessionToolkit

    calls = []
    original = dparts.generator.invert
    monkeypatch.setattr(dparts.generator, "invert", lambda image, face_index=None: calls.append(1) or original(image, face_index))
    editor = open_photo(store, dparts, str(photo))
    tk = SessionToolkit(editor)
    tk.apply_attribute([AttributeEdit(attribute="eyeglasses", strength=0.6)])
    tk.apply_attribute([AttributeEdit(attribute="age", strength=0.6)])
    assert calls == [1]
    info = store.get_session(editor.session_id)
    assert info.latent_blob is not None and info.engine == "diffusion"
    again = SessionEditor(store, dparts, editor.session_id)
    assert again.latent().arrays["x_T"].dtype == np.float16 and calls == [1]
    head = again.head()
    assert set(head.state) == {"eyeglasses", "age"} and "identity" in head.scores


def test_train_direction_writes_a_loadable_network_and_resumes(tiny_diffusion, tmp_path, astronaut):
    from PIL import Image

    images = tmp_path / "faces"
    images.mkdir()
    Image.fromarray(astronaut).save(images / "a.png")
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(images / "blank.png")
    out = tmp_path / "trained"
    cmd = [
        "train-direction",
        "smiling",
        "--images",
        str(images),
        "--out",
        str(out),
        "--models",
        str(tiny_diffusion),
        "--iterations",
        "2",
        "--steps",
        "10",
        "--t-edit",
        "800",
        "--hidden",
        "16",
        "--checkpoint-every",
        "1",
        "--no-progress",
        "--device",
        "cpu",
    ]
    run = run_cli(cmd)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "skipped blank.png" in run.stderr
    from chatface.models.engines.diffusion.hspace import MappingRegistry, load_mapping

    reg = MappingRegistry(out, channels=64)
    assert reg.available() == ["smiling"]
    net, meta = load_mapping(out / "smiling.safetensors")
    assert meta["base_model"] == "tiny-unet (make-tiny, seed 0)"  # the U-Net's identity, which the engine checks
    assert meta["training"]["iterations_done"] == 2 and meta["training"]["t_edit"] == 800
    assert any(float(p.abs().sum()) > 0 for p in net.conv_out.parameters())  # it learned something from the zero start
    cmd[cmd.index("--iterations") + 1] = "3"
    run = run_cli(cmd + ["--resume"])
    assert run.returncode == 0, run.stderr[-2000:]
    assert "resuming at iteration 2" in run.stderr
    assert load_mapping(out / "smiling.safetensors")[1]["training"]["iterations_done"] == 3
    assert len((out / "smiling.log.jsonl").read_text().splitlines()) == 3


def test_cli_edit_with_the_diffusion_engine_end_to_end(tiny_diffusion, photo, tmp_path):
    out = tmp_path / "out.png"
    env = {**__import__("os").environ, "CHATFACE_HOME": str(tmp_path / "home")}
    run = run_cli(
        [
            "edit",
            str(photo),
            "add glasses and make her older",
            "--engine",
            "diffusion",
            "--models",
            str(tiny_diffusion),
            "--steps",
            "8",
            "-o",
            str(out),
        ],
        env={"CHATFACE_HOME": env["CHATFACE_HOME"]},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "age +0.60" in run.stdout and "eyeglasses +0.60" in run.stdout and out.exists()
    from PIL import Image

    assert Image.open(out).size == (512, 512)
    run = run_cli(
        ["edit", str(photo), "smile", "--engine", "diffusion", "--models", str(tmp_path / "nope"), "-o", str(tmp_path / "x.png")],
        env={"CHATFACE_HOME": env["CHATFACE_HOME"]},
    )
    assert run.returncode == 1 and "does not exist" in run.stderr and "Traceback" not in run.stderr


def test_decodes_of_different_photos_share_one_batched_pass(dparts, dlatent, astronaut):
    """decode_batch: one U-Net pass per step for every photo, each with its own edits, the same images as one by one
    (to float rounding), and a bad request answered in its place without failing the others."""
    from chatface.models.base import UnsupportedAttributeError

    gen = dparts.generator
    other = np.ascontiguousarray(astronaut[:, ::-1])  # the mirrored photo: another face, another inversion
    other_latent = gen.invert(other)
    requests = [
        (astronaut, dlatent, {"smiling": EditSpec(0.8, 300)}),
        (other, other_latent, {"age": EditSpec(-0.6, 300), "smiling": EditSpec(0.3, 500)}),
        (astronaut, dlatent, {}),
        (astronaut, dlatent, {"no_such_attribute": EditSpec(0.5, 500)}),
    ]
    singles = [gen.decode(*r) for r in requests[:3]]
    batched = gen.decode_batch(requests)
    steps = int(dlatent.meta["steps"])
    assert gen.last_passes["encoder"] == steps  # one encoder pass per step for both edited photos
    for one, many in zip(singles, batched[:3]):
        assert np.abs(one.astype(int) - many.astype(int)).max() <= 2
    assert not np.array_equal(batched[0], batched[2])  # the edit is there
    assert np.array_equal(batched[2], astronaut)  # no edits: the photo itself
    assert isinstance(batched[3], UnsupportedAttributeError)
