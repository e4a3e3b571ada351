"""DeltaEdit's text-free mapper in h-space on the tiny random models: the training loop through the CLI (and its
resume), a mapper's save, load and refusal of another U-Net, and the engine using it, through the chat, for an
attribute that has no network of its own. The tiny models' edits are meaningless; what is tested is the plumbing and
the arithmetic, which are the real code."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from helpers import require_extra, run_cli

torch = require_extra("torch", "diffusion")

from chatface.models.engines.diffusion.delta_mapper import (
    FILE_NAME,
    DeltaMapper,
    TextDirections,
    load_delta_mapper,
    read_delta_meta,
    save_delta_mapper,
)


@pytest.fixture(scope="module")
def trained(tiny_diffusion, tmp_path_factory, astronaut):
    """A models folder with the tiny U-Net, CLIP and ArcFace, every network but the goatee's, and a DeltaEdit mapper
    trained on it by ``chatface train-direction --method deltaedit`` (2 iterations, then resumed to 3)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("deltaedit")
    models = root / "models"
    models.mkdir()
    for part in ("unet", "clip", "arcface.onnx"):
        (models / part).symlink_to(tiny_diffusion / part)
    shutil.copytree(tiny_diffusion / "mappings", models / "mappings")
    (models / "mappings" / "goatee.safetensors").unlink()
    faces = root / "faces"
    faces.mkdir()
    Image.fromarray(astronaut).save(faces / "a.png")
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(faces / "b.png")
    Image.fromarray(np.clip(astronaut.astype(int) * 0.7 + 30, 0, 255).astype(np.uint8)).save(faces / "c.png")
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(faces / "blank.png")
    cmd = ["train-direction", "--method", "deltaedit", "--images", str(faces), "--out", str(models / "deltaedit"), "--models", str(models)]
    cmd += ["--iterations", "2", "--steps", "6", "--t-edit", "500", "--hidden", "16", "--checkpoint-every", "1", "--lr", "1e-2"]
    cmd += ["--device", "cpu", "--no-progress"]
    run = run_cli(cmd)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "skipped blank.png" in run.stderr
    cmd[cmd.index("--iterations") + 1] = "3"
    run = run_cli(cmd + ["--resume"])
    assert run.returncode == 0 and "resuming at iteration 2" in run.stderr, run.stderr[-2000:]
    return models


def test_the_training_loop_writes_a_mapper_of_this_unet_with_its_log(trained):
    meta = read_delta_meta(trained / "deltaedit" / FILE_NAME)
    assert meta["base_model"] == "tiny-unet (make-tiny, seed 0)" and meta["channels"] == 64
    assert meta["training"]["iterations_done"] == 3 and meta["training"]["images"] == 3 and meta["training"]["method"] == "deltaedit"
    assert all(t >= 500 for t in meta["training"]["editing_steps"])
    lines = [json.loads(x) for x in (trained / "deltaedit" / "deltaedit.log.jsonl").read_text().splitlines()]
    assert [x["iteration"] for x in lines] == [1, 2, 3] and all(np.isfinite(x["loss"]) for x in lines)
    mapper, _ = load_delta_mapper(trained / "deltaedit" / FILE_NAME, base_model=meta["base_model"], channels=64, clip_dim=meta["clip_dim"])
    assert float(mapper.conv_out.weight.abs().sum()) > 0  # it learned something from the zero start


def test_a_mapper_saves_loads_and_refuses_another_unet_or_clip(tmp_path):
    torch.manual_seed(0)
    mapper = DeltaMapper(clip_dim=32, channels=64, hidden=16, time_dim=8)
    torch.nn.init.normal_(mapper.conv_out.weight)
    path = save_delta_mapper(mapper, tmp_path / FILE_NAME, base_model="unet-a", clip_model="tiny-clip")
    again, meta = load_delta_mapper(path, base_model="unet-a", channels=64, clip_dim=32)
    h, d = torch.randn(2, 64, 4, 4), torch.randn(2, 32)
    assert torch.equal(again(d, h, 600), mapper.eval()(d, h, 600)) and meta["clip_model"] == "tiny-clip"
    with pytest.raises(ValueError, match="belongs to the U-Net 'unet-a'"):
        load_delta_mapper(path, base_model="unet-b", channels=64, clip_dim=32)
    with pytest.raises(ValueError, match="32-d CLIP"):
        load_delta_mapper(path, base_model="unet-a", channels=64, clip_dim=512)
    with pytest.raises(ValueError, match="must be 2 x 32"):
        mapper(torch.randn(1, 32), h, 600)


def test_text_directions_walk_the_attributes_texts_both_ways():
    emb = {"a face": np.array([1.0, 0, 0]), "a face with a goatee": np.array([0, 1.0, 0]), "a young face": np.array([0, 0, 1.0])}
    texts = {"goatee": {"neutral": "a face", "positive": "a face with a goatee"}, "age": {"neutral": "a face", "positive": "a young face"}}
    dirs = TextDirections(DeltaMapper(3, 8, hidden=8, time_dim=8), emb.__getitem__, texts)
    up, down = dirs.delta("goatee", 1), dirs.delta("goatee", -1)
    assert torch.allclose(up, -down) and float(up.norm()) == pytest.approx(1.0)
    assert dirs.attributes() == ["age", "goatee"] and dirs.active("goatee", -0.6, 500).coefficient == pytest.approx(0.6)


def test_the_engine_edits_an_attribute_without_a_network_by_the_mapper_and_refuses_another_unets(trained, astronaut, tmp_path):
    from chatface.models.base import EditSpec
    from chatface.models.engines.catalog import load_engine
    from chatface.tools.vocabulary import default_vocabulary

    concepts = default_vocabulary().concepts()
    parts = load_engine("diffusion", models_dir=str(trained), diffusion_options={"device": "cpu", "steps": 6}, concepts=concepts)
    gen = parts.generator
    assert "goatee" not in gen.mappings.available() and gen.supported_attributes()["goatee"] == (True, True)
    assert gen.by_mapper("goatee") and not gen.by_mapper("smiling")
    latent = gen.invert(astronaut)
    edited = gen.decode(astronaut, latent, {"goatee": EditSpec(0.9, 500)})
    assert np.abs(edited.astype(int) - gen.decode(astronaut, latent, {"smiling": EditSpec(0.0, 500)})).mean() > 0.01
    assert np.array_equal(edited, gen.decode(astronaut, latent, {"goatee": EditSpec(0.9, 500)}))
    # a mapper of another U-Net in the folder: not used, and said why
    other = tmp_path / "other"
    shutil.copytree(trained, other, symlinks=True)
    meta = read_delta_meta(other / "deltaedit" / FILE_NAME)
    mapper, _ = load_delta_mapper(other / "deltaedit" / FILE_NAME, base_model=meta["base_model"], channels=64, clip_dim=meta["clip_dim"])
    save_delta_mapper(mapper, other / "deltaedit" / FILE_NAME, base_model="someone else's U-Net", clip_model=meta["clip_model"])
    refused = load_engine("diffusion", models_dir=str(other), diffusion_options={"device": "cpu", "steps": 6}, concepts=concepts)
    assert refused.generator.text_directions is None and "goatee" not in refused.generator.supported_attributes()
    assert "belongs to the U-Net" in (refused.generator.delta_problem or "")
    listing = run_cli(["models", "list", "--models", str(other)])
    assert "deltaedit" in listing.stdout and "belongs to the U-Net" in listing.stdout, listing.stdout


def test_give_him_a_goatee_through_the_chat_by_the_mapper(trained, tmp_path, astronaut):
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from PIL import Image

    photo = tmp_path / "me.png"
    Image.fromarray(astronaut).save(photo)
    config = Configuration(
        engine="diffusion", models_dir=str(trained), device="cpu", dtype="float32", steps=6, max_attempts=0,
        database_url=f"sqlite:///{tmp_path / 's.db'}", use_embeddings=False,
    )  # fmt: skip
    agent = ChatService(config).open_photo(photo)
    reply = agent.send("give him a goatee")
    head = agent.toolkit.editor.head()
    assert head.seq == 1 and head.state["goatee"]["strength"] > 0, reply.text
    assert "DeltaEdit" in reply.text, reply.text
    editor = agent.toolkit.editor
    assert np.array_equal(editor.render(head.state), editor.image_of(head))


def test_the_mapper_and_a_style_from_a_reference_through_mcp(trained, tmp_path, astronaut):
    """The MCP server on the diffusion engine: an attribute without a network goes by the mapper, and apply_reference
    takes a style from a reference photo; both are stored nodes of the session."""
    require_extra("mcp", "serve")
    import sys

    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(astronaut).save(photos / "me.png")
    Image.fromarray(np.ascontiguousarray(astronaut[:, ::-1])).save(photos / "portrait.png")
    db = f"sqlite:///{tmp_path / 'mcp.db'}"
    args = ["-m", "chatface.cli", "mcp", "--allow-dir", str(photos), "--engine", "diffusion", "--models", str(trained)]
    args += ["--steps", "6", "--device", "cpu", "--dtype", "float32"]
    params = StdioServerParameters(
        command=sys.executable, args=args, env={"CHATFACE_DATABASE_URL": db, "HF_HUB_OFFLINE": "1", "CHATFACE_MAX_ATTEMPTS": "0"}
    )

    def text(result) -> str:
        return "\n".join(c.text for c in result.content if c.type == "text")

    async def scenario():
        async with Client(params, read_timeout_seconds=180) as client:
            opened = await client.call_tool("invert", {"image_path": str(photos / "me.png")})
            assert not opened.is_error, text(opened)
            goatee = await client.call_tool("apply_attribute", {"edits": [{"attribute": "goatee", "strength": 0.6}]})
            assert not goatee.is_error and "by the DeltaEdit mapper" in text(goatee), text(goatee)
            styled = await client.call_tool("apply_reference", {"take": ["style"], "reference": str(photos / "portrait.png")})
            assert not styled.is_error and "its style at 0.60" in text(styled), text(styled)
            history = await client.call_tool("history", {})
            return text(history)

    history = anyio.run(scenario)
    assert "goatee" in history and "the reference photo's style" in history, history
