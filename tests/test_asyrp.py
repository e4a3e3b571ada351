"""Asyrp's networks and U-Net layout against Asyrp's own code (../shared/reference/asyrp) as the oracle.

Small pytorch_diffusion-layout U-Nets with random weights are built by the
oracle's DDPM class, saved as a checkpoint, converted by the project and
compared on the same inputs; the real published networks in
../shared/weights/asyrp-celebahq run through the project's loader and
generative process on a U-Net with Asyrp's 512-channel middle.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import require_extra

torch = require_extra("torch", "diffusion")

from chatface.models.engines.diffusion import ddim


def _oracle(shared_dir, name: str):
    spec = importlib.util.spec_from_file_location(f"asyrp_oracle_{name}", shared_dir / "reference" / "asyrp" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ddpm(shared_dir, *, ch, ch_mult, num_res_blocks, attn, resolution, seed=0):
    """The oracle's DDPM with random weights (GroupNorm affines and biases randomised too)."""
    cfg = SimpleNamespace(
        model=SimpleNamespace(
            ch=ch,
            out_ch=3,
            ch_mult=ch_mult,
            num_res_blocks=num_res_blocks,
            attn_resolutions=attn,
            dropout=0.0,
            in_channels=3,
            resamp_with_conv=True,
        ),
        data=SimpleNamespace(image_size=resolution),
    )
    torch.manual_seed(seed)
    model = _oracle(shared_dir, "diffusion").DDPM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


def _converted(model, tmp_path, resolution):
    from chatface.models.engines.diffusion.loading import load_unet
    from chatface.models.weights.pytorch_diffusion import convert_checkpoint

    ckpt = tmp_path / "model.ckpt"
    torch.save({k: v for k, v in model.state_dict().items() if not k.startswith("layer_")}, ckpt)
    convert_checkpoint(ckpt, tmp_path / "unet", resolution=resolution, identity={"id": "test-unet"})
    return load_unet(str(tmp_path / "unet"))


def test_a_pytorch_diffusion_checkpoint_converts_to_the_same_noise_prediction(shared_dir, tmp_path):
    model = _ddpm(shared_dir, ch=32, ch_mult=[1, 2, 2], num_res_blocks=2, attn=[8], resolution=32)
    unet, scheduler = _converted(model, tmp_path, 32)
    assert list(unet.config.block_out_channels) == [32, 64, 64] and unet.config.layers_per_block == 2
    assert list(unet.config.down_block_types) == ["DownBlock2D", "DownBlock2D", "AttnDownBlock2D"]
    assert scheduler.config.timestep_spacing == "linspace" and ddim.timesteps(scheduler, 40)[0] == 999
    x = torch.randn(2, 3, 32, 32)
    for t in (0, 321, 999):
        tt = torch.full((2,), t)
        with torch.no_grad():
            theirs = model(x, tt)[0]
            ours = unet(x, t).sample
        assert torch.allclose(ours, theirs, atol=1e-5), (t, float((ours - theirs).abs().max()))
    # the checkpoint file itself loads too (converted on load), with the id its conversion would get at 256
    from chatface.models.engines.diffusion.loading import load_unet
    from chatface.models.weights.provenance import unet_id

    direct, _ = load_unet(str(tmp_path / "model.ckpt"))
    with torch.no_grad():
        assert torch.equal(direct(x, 321).sample, unet(x, 321).sample)
    assert unet_id(str(tmp_path / "model.ckpt")).startswith("model-256@sha256:")


def test_the_split_unet_is_the_whole_unet(shared_dir, tmp_path):
    from chatface.models.engines.diffusion import unet_split

    model = _ddpm(shared_dir, ch=32, ch_mult=[1, 2], num_res_blocks=1, attn=[8], resolution=16)
    unet, _ = _converted(model, tmp_path, 16)
    x = torch.randn(1, 3, 16, 16)
    with torch.no_grad():
        enc = unet_split.encode(unet, x, 500)
        whole = unet(x, 500).sample
        assert torch.equal(unet_split.decode(unet, enc), whole)
        two = unet_split.decode(unet, enc, [enc.h, enc.h * 1.5])
    assert torch.allclose(two[:1], whole, atol=1e-5) and not torch.allclose(two[1:], whole)


def test_the_paired_decoder_computes_the_skips_once_and_gives_the_same_noise(shared_dir, tmp_path):
    from chatface.models.engines.diffusion import unet_split
    from torch.utils.flop_counter import FlopCounterMode

    # 64 + 32 channels into a 32-group norm: groups of 3 straddle the boundary between h and the skip
    model = _ddpm(shared_dir, ch=32, ch_mult=[1, 2, 2], num_res_blocks=2, attn=[8], resolution=32)
    unet, _ = _converted(model, tmp_path, 32)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        enc = unet_split.encode(unet, x, 700)
        h_edit = enc.h + 0.3 * torch.randn_like(enc.h)
        with FlopCounterMode(display=False) as batched:
            both = unet_split.decode(unet, enc, [enc.h, h_edit])
        with FlopCounterMode(display=False) as paired:
            orig, edit = unet_split.decode_pair(unet, enc, h_edit)
    assert torch.allclose(orig, both[:1], atol=1e-5) and torch.allclose(edit, both[1:], atol=1e-5)
    assert paired.get_total_flops() < 0.9 * batched.get_total_flops()  # 0.88 here; at the real size see the benchmark


def test_a_checkpoint_of_another_layout_is_refused(tmp_path):
    from chatface.models.weights.pytorch_diffusion import infer_config, read_checkpoint

    torch.save({"weight": torch.zeros(3)}, tmp_path / "x.ckpt")
    with pytest.raises(ValueError, match="not a pytorch_diffusion checkpoint"):
        infer_config(read_checkpoint(tmp_path / "x.ckpt"))


ASYRP = "weights/asyrp-celebahq"


def test_all_three_real_networks_load(shared_dir):
    from chatface.models.weights.asyrp import FACE_NETWORKS, SHA256, file_name, load_delta_block
    from chatface.models.weights.provenance import sha256_of

    for name in ("smiling", "tanned", "young"):
        path = shared_dir / ASYRP / file_name(name)
        assert sha256_of(path) == SHA256[name]
        net = load_delta_block(path)
        assert (net.channels, net.temb_channels) == (512, 512)
        assert net.conv1.weight.abs().mean() > 0.01  # trained weights, not an empty shell
    assert FACE_NETWORKS["young"].attribute == "age" and FACE_NETWORKS["young"].scale == -1


@pytest.fixture(scope="module")
def asyrp_case(shared_dir, tmp_path_factory):
    """The oracle's DDPM with a 512-channel middle (ch 128) and the real smiling network as its layer_0,
    and the same U-Net and network through the project's conversion, registry and generator."""
    from chatface.models.engines.diffusion.engine import DiffusionGenerator
    from chatface.models.engines.diffusion.hspace import MappingRegistry
    from chatface.models.weights.asyrp import convert_network, file_name, load_delta_block
    from diffusers import DDIMScheduler

    tmp = tmp_path_factory.mktemp("asyrp")
    model = _ddpm(shared_dir, ch=128, ch_mult=[1, 4], num_res_blocks=1, attn=[8], resolution=16)
    pth = shared_dir / ASYRP / file_name("smiling")
    model.setattr_layers(1)
    model.layer_0.load_state_dict(load_delta_block(pth).state_dict())
    model.eval()
    unet, scheduler = _converted(model, tmp, 16)
    assert isinstance(scheduler, DDIMScheduler)
    convert_network(pth, tmp / "mappings", "smiling", base_model="test-unet", sha256="-")
    registry = MappingRegistry(tmp / "mappings", channels=512, temb_channels=512, base_model="test-unet")
    gen = DiffusionGenerator(unet, scheduler, registry, steps=5)
    return model, gen


def test_a_real_network_gives_the_oracles_edited_noise(asyrp_case):
    model, gen = asyrp_case
    x = torch.randn(1, 3, 16, 16)
    for t, coeff in ((999, 1.0), (600, 0.6), (600, -0.4)):
        edit = gen.mappings.active("smiling", coeff, 500)
        with torch.no_grad():
            et, et_modified, _, _ = model(x, torch.tensor([t]), index=0, t_edit=500, hs_coeff=(1.0, coeff))
            eps_edit, eps_orig = gen._edit_noise([edit])(x, t)
        assert torch.allclose(eps_orig, et, atol=1e-5)
        assert torch.allclose(eps_edit, et_modified, atol=1e-5), float((eps_edit - et_modified).abs().max())
        assert float((eps_edit - eps_orig).abs().max()) > 1e-3  # the real network moves the noise


def test_the_generative_process_is_asyrps_asymmetric_step_then_plain_ddim(asyrp_case, shared_dir):
    utils = _oracle(shared_dir, "diffusion_utils")
    model, gen = asyrp_case
    betas = torch.from_numpy(utils.get_beta_schedule(beta_start=0.0001, beta_end=0.02, num_diffusion_timesteps=1000)).float()
    x_T = torch.randn(1, 3, 16, 16)
    steps = ddim.pairs(gen.scheduler, 5)  # 999, 749, 500, 250, 0 -> edits at 999, 749, 500
    x = x_T.clone()
    with torch.no_grad():
        for t, t_next in steps:
            x = utils.denoising_step(
                x,
                torch.tensor([t]),
                torch.tensor([t_next]),
                models=model,
                logvars=np.zeros(1000),
                b=betas,
                sampling_type="ddim",
                eta=0.0,
                index=0,
                t_edit=500,
                hs_coeff=(1.0, 0.6),
            )[0]
    edit = gen.mappings.active("smiling", 0.6, 500)
    gen.last_applied_steps, gen.last_passes = [], {"encoder": 0, "decoder": 0}
    with torch.no_grad():
        ours = ddim.sample(gen._edit_noise([edit]), gen.scheduler, x_T, 5)
    assert gen.last_applied_steps == [999, 749, 500]
    assert gen.last_passes == {"encoder": 5, "decoder": 8}  # shared encoder: 2 decoders only where edited
    # equal up to float32 rounding, which x0 = (x - sqrt(1 - a) eps) / sqrt(a) amplifies ~150x at t = 999
    assert float((ours - x).abs().max()) <= 1e-5 * float(x.abs().max()), float((ours - x).abs().max())
    plain = ddim.sample(gen._plain_noise, gen.scheduler, x_T, 5)
    assert float((plain - ours).abs().max()) > 1e-3


def test_a_network_made_for_another_unet_is_refused(asyrp_case, tmp_path):
    from chatface.models.engines.diffusion.hspace import MappingRegistry

    _, gen = asyrp_case
    other = MappingRegistry(gen.mappings.directory, channels=512, temb_channels=512, base_model="another-unet")
    assert other.available() == []
    assert "belongs to the U-Net 'test-unet'" in other.problems["smiling.safetensors"]


def test_paired_networks_serve_one_sign_each(asyrp_case, tmp_path, shared_dir):
    from chatface.models.engines.diffusion.hspace import MappingRegistry
    from chatface.models.weights.asyrp import convert_network, file_name

    # the real young network as "age" (sign flipped) and, to have a pair, as both man and woman
    pth = shared_dir / ASYRP / file_name("young")
    for name in ("young", "man", "woman"):
        convert_network(pth, tmp_path, name, base_model="u", sha256="-")
    reg = MappingRegistry(tmp_path, base_model="u")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "age.safetensors",
        "masculine.negative.safetensors",
        "masculine.positive.safetensors",
    ]
    assert reg.directions("masculine") == (True, True) and reg.directions("age") == (True, True)
    older, younger = reg.active("age", 0.6, 500), reg.active("age", -0.3, 500)
    assert older.coefficient == pytest.approx(-0.6) and younger.coefficient == pytest.approx(0.3)
    feminine = reg.active("masculine", -0.5, 500)
    assert feminine.coefficient == pytest.approx(0.5) and feminine.network is reg.get("masculine", "negative")
    (tmp_path / "masculine.negative.safetensors").unlink()
    assert MappingRegistry(tmp_path, base_model="u").directions("masculine") == (True, False)


def test_the_catalog_offers_what_asyrps_networks_edit():
    """`chatface engines` says what the diffusion engine does without loading torch: the same as Asyrp's networks."""
    from chatface.models.engines.catalog import ASYRP_ATTRIBUTES
    from chatface.models.weights.asyrp import FACE_NETWORKS

    served: dict[str, tuple[bool, bool]] = {}
    for n in FACE_NETWORKS.values():
        pos, neg = served.get(n.attribute, (False, False))
        served[n.attribute] = (pos or n.direction in ("both", "positive"), neg or n.direction in ("both", "negative"))
    assert served == ASYRP_ATTRIBUTES
