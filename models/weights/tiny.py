"""Small random-weight models of every architecture the diffusion engine uses, for tests and trying the plumbing.

``chatface models make-tiny DIR`` writes:

- ``unet/``: a small diffusers ``UNet2DModel`` (the CelebA-HQ model's block
  types and time embedding, 32x32, two levels) with its DDIM scheduler config;
- ``mappings/<id>.safetensors``: a mapping network for every attribute id;
- ``clip/``: a small open_clip CLIP (config + safetensors), loaded with ``local-dir:``;
- ``arcface.onnx``: an ArcFace-shaped ONNX network (112x112 RGB in, 512-d out)
  that runs as a recognition model (one square RGB face in, one embedding out).

Every file goes through the same save code as trained weights and loads
through the same loading code as real ones. THEIR EDITS ARE MEANINGLESS:
random weights prove the plumbing (inversion, hooks, memory, scoring), not
the pictures.
"""

from __future__ import annotations

import json
from pathlib import Path

TINY_README = """These are random-weight models made by `chatface models make-tiny`.
They have the architectures of the real ones (diffusers UNet2DModel + DDIM scheduler, ChatFace
mapping networks, open_clip CLIP, an ArcFace-shaped ONNX network) but were never trained:
every edit they make is meaningless noise. They exist to test and try the plumbing.
For real edits see the README ("The diffusion engine").
"""

UNET_CONFIG = dict(
    sample_size=32,
    in_channels=3,
    out_channels=3,
    layers_per_block=1,
    block_out_channels=(32, 64),
    down_block_types=("DownBlock2D", "AttnDownBlock2D"),
    up_block_types=("AttnUpBlock2D", "UpBlock2D"),
    norm_num_groups=8,
    norm_eps=1e-6,
    downsample_padding=0,
    flip_sin_to_cos=False,
    freq_shift=1,
    time_embedding_type="positional",
    act_fn="silu",
    center_input_sample=False,
    mid_block_scale_factor=1,
)
# the noise schedule of google/ddpm-ema-celebahq-256
SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.0001,
    beta_end=0.02,
    beta_schedule="linear",
    clip_sample=False,
    set_alpha_to_one=True,
    steps_offset=0,
    prediction_type="epsilon",
)
CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def tiny_unet_id(seed: int) -> str:
    return f"tiny-unet (make-tiny, seed {seed})"


def make_unet(path: Path, seed: int = 0):
    import torch

    # the defining modules: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.models.unets.unet_2d import UNet2DModel
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler

    from .provenance import write_identity

    torch.manual_seed(seed)
    unet = UNet2DModel(**UNET_CONFIG)
    unet.save_pretrained(path)
    DDIMScheduler(**SCHEDULER_CONFIG).save_pretrained(path)
    write_identity(path, {"id": tiny_unet_id(seed), "source": "chatface models make-tiny (random weights)"})
    return unet


def make_mappings(path: Path, attributes: dict[str, dict], channels: int, base_model: str, seed: int = 0) -> list[str]:
    """A random mapping network for every attribute id of ``attributes`` (id -> its neutral/positive/negative texts)."""
    import torch

    from ..engines.diffusion.hspace import MappingNetwork, save_mapping

    for i, (attr, text) in enumerate(attributes.items()):
        torch.manual_seed(seed + 1 + i)
        net = MappingNetwork(channels, hidden=32, time_dim=32)
        save_mapping(
            net,
            path / f"{attr}.safetensors",
            attribute=attr,
            text=text,
            base_model=base_model,
            training={"kind": "random initialisation (make-tiny): meaningless"},
        )
    return list(attributes)


def make_clip(path: Path, seed: int = 0) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    path.mkdir(parents=True, exist_ok=True)
    (path / "open_clip_config.json").write_text(
        json.dumps(
            {
                "model_cfg": CLIP_CONFIG,
                "preprocess_cfg": {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)},
            },
            indent=2,
        )
    )
    torch.manual_seed(seed)
    model = open_clip.create_model(f"local-dir:{path}")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / "open_clip_model.safetensors"))


class _ArcFaceShaped:
    """A small ResNet-like face embedder with ArcFace's interface: 1x3x112x112 in [-1, 1] -> 512."""

    @staticmethod
    def build():
        from torch import nn

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.PReLU(cout))

        return nn.Sequential(
            block(3, 16), block(16, 32), block(32, 64), block(64, 64), nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.BatchNorm1d(512)
        )


def make_arcface(path: Path, seed: int = 0) -> None:
    import warnings

    import torch

    torch.manual_seed(seed)
    net = _ArcFaceShaped.build().eval()
    with torch.no_grad():  # trained-looking statistics; equal constants would also be merged into Identity nodes by the exporter
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                if m.running_mean is None or m.running_var is None:  # built with the default track_running_stats=True
                    raise ValueError("the ArcFace-shaped network's batch norms keep no running statistics")
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.normal_(1.0, 0.1)
                m.bias.normal_(0, 0.1)
            elif isinstance(m, torch.nn.PReLU):
                m.weight.uniform_(0.1, 0.4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.randn(1, 3, 112, 112),),
            str(path),
            input_names=["data"],
            output_names=["fc1"],
            dynamic_axes={"data": {0: "batch"}, "fc1": {0: "batch"}},
            dynamo=False,
            opset_version=13,
        )  # the opset of the buffalo_l models; onnx2torch converts it


def make_tiny(directory: str | Path, attributes: dict[str, dict], seed: int = 0) -> Path:
    """Every tiny model in ``directory``; ``attributes`` (id -> CLIP texts) are the ids that get a mapping network."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    unet = make_unet(root / "unet", seed)
    make_mappings(root / "mappings", attributes, unet.config.block_out_channels[-1], base_model=tiny_unet_id(seed), seed=seed)
    make_clip(root / "clip", seed)
    make_arcface(root / "arcface.onnx", seed)
    (root / "README.txt").write_text(TINY_README)
    return root


# -- LEDITS++ (Stable Diffusion) components ------------------------------------------------------
TINY_SD_README = TINY_README.replace(
    "diffusers UNet2DModel + DDIM scheduler, ChatFace\nmapping networks",
    "a Stable Diffusion pipeline for LEDITS++: UNet2DConditionModel, AutoencoderKL,\nCLIP text encoder and tokenizer",
)


def _byte_symbols() -> list[str]:
    """The 256 printable symbols byte-level BPE uses for bytes (GPT-2's table)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def make_clip_tokenizer():
    """A CLIPTokenizer built here: every byte as a token and as a word end (no merges, nothing from the hub)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in _byte_symbols():
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def make_tiny_ledits(directory: str | Path, seed: int = 0) -> Path:
    """A tiny random Stable Diffusion pipeline (``sd/``, 64x64 images) for the LEDITS++ engine, with ``clip/`` and
    ``arcface.onnx`` for its scorers, in ``directory``."""
    import torch

    # the defining modules: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.pipelines.ledits_pp.pipeline_leditspp_stable_diffusion import LEditsPPPipelineStableDiffusion
    from diffusers.schedulers.scheduling_dpmsolver_multistep import DPMSolverMultistepScheduler
    from transformers import CLIPTextConfig, CLIPTextModel

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    tokenizer = make_clip_tokenizer()
    torch.manual_seed(seed)
    # cross-attention at a quarter of the latent size, where LEDITS++ reads its attention masks (as in SD's 64 -> 16)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=8,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(16, 32, 32),
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        norm_num_groups=8,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    scheduler = DPMSolverMultistepScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", algorithm_type="sde-dpmsolver++", solver_order=2, steps_offset=1
    )
    # diffusers annotates safety_checker and feature_extractor as required, but the pipeline takes None for both (no checker)
    pipe = LEditsPPPipelineStableDiffusion(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(str(root / "sd"))
    make_clip(root / "clip", seed)
    make_arcface(root / "arcface.onnx", seed)
    (root / "README.txt").write_text(TINY_SD_README)
    return root
