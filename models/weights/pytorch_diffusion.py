"""Checkpoints in the pytorch_diffusion layout (DDPM's PyTorch port, SDEdit, DiffusionCLIP, Asyrp) as diffusers UNet2DModels.

SDEdit's CelebA-HQ U-Net (``celeba_hq.ckpt``), on which Asyrp's published
h-space networks were trained, is a plain state dict of the ``DDPM`` model of
pytorch_diffusion. The architecture is read off the tensors, so smaller
checkpoints of the same layout convert too:

- ``ch``: conv_in's output channels; ``ch_mult``: each level's first block's
  output channels / ch; ``num_res_blocks``: the blocks of level 0; attention
  at the levels that hold ``attn`` tensors; the resolution is not stored (256
  unless given).

The keys map one to one (L levels; diffusers numbers the up blocks from the
lowest resolution, pytorch_diffusion from the highest, so up.i is up_blocks.L-1-i):

=====================================  =============================================
pytorch_diffusion                      diffusers UNet2DModel
=====================================  =============================================
temb.dense.0 / temb.dense.1            time_embedding.linear_1 / linear_2
conv_in, conv_out                      conv_in, conv_out
norm_out                               conv_norm_out
down.i.block.j.*                       down_blocks.i.resnets.j.*
down.i.attn.j.*                        down_blocks.i.attentions.j.*
down.i.downsample.conv                 down_blocks.i.downsamplers.0.conv
mid.block_1 / mid.attn_1 / mid.block_2  mid_block.resnets.0 / attentions.0 / resnets.1
up.i.block.j.*                         up_blocks.(L-1-i).resnets.j.*
up.i.attn.j.*                          up_blocks.(L-1-i).attentions.j.*
up.i.upsample.conv                     up_blocks.(L-1-i).upsamplers.0.conv
(resnet) temb_proj, nin_shortcut       time_emb_proj, conv_shortcut
(attn) norm, q, k, v, proj_out         group_norm, to_q, to_k, to_v, to_out.0
=====================================  =============================================

Attention's 1x1 convolutions become linear layers (the weights lose their two
trailing unit dimensions); single-head attention with scale C^-1/2 is
diffusers' ``attention_head_dim=None``. The noise schedule is DDPM's: 1000
linear betas from 1e-4 to 0.02, epsilon prediction; the DDIM scheduler uses
'linspace' timesteps (999 ... 0), the sequence Asyrp's networks were trained on.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

SCHEDULER_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.0001,
    beta_end=0.02,
    beta_schedule="linear",
    clip_sample=False,
    set_alpha_to_one=True,
    steps_offset=0,
    prediction_type="epsilon",
    timestep_spacing="linspace",
)


def _levels(sd: dict, prefix: str) -> int:
    found = {int(m.group(1)) for k in sd if (m := re.match(rf"{prefix}\.(\d+)\.", k))}
    if not found or found != set(range(len(found))):
        raise ValueError(f"not a pytorch_diffusion checkpoint: no consecutive '{prefix}.N' levels")
    return len(found)


def infer_config(sd: dict, resolution: int = 256) -> dict:
    """The UNet2DModel configuration of a pytorch_diffusion state dict (read off its tensor shapes)."""
    for key in ("conv_in.weight", "temb.dense.0.weight", "mid.block_1.conv1.weight", "conv_out.weight"):
        if key not in sd:
            raise ValueError(f"not a pytorch_diffusion checkpoint: no {key}")
    if any(".conv_shortcut." in k for k in sd):
        raise ValueError("3x3 conv shortcuts (conv_shortcut=True) are not implemented; only 1x1 nin_shortcut")
    ch = sd["conv_in.weight"].shape[0]
    levels = _levels(sd, "down")
    if _levels(sd, "up") != levels:
        raise ValueError("the checkpoint has a different number of down and up levels")
    num_res_blocks = len({k.split(".")[3] for k in sd if k.startswith("down.0.block.")})
    out_channels = [sd[f"down.{i}.block.0.conv1.weight"].shape[0] for i in range(levels)]
    if out_channels[0] != ch:
        raise ValueError("ch_mult[0] != 1 is not implemented (diffusers embeds time with block_out_channels[0] channels)")
    attn = [f"down.{i}.attn.0.q.weight" in sd for i in range(levels)]
    if [f"up.{i}.attn.0.q.weight" in sd for i in range(levels)] != attn:
        raise ValueError("attention at different levels in the down and up paths is not implemented")
    if any(f"down.{i}.downsample.conv.weight" not in sd for i in range(levels - 1)):
        raise ValueError("resampling without convolution (resamp_with_conv=False) is not implemented")
    if sd["temb.dense.0.weight"].shape != (4 * ch, ch):
        raise ValueError(f"unexpected time embedding {tuple(sd['temb.dense.0.weight'].shape)} for ch={ch}")
    return dict(
        sample_size=resolution,
        in_channels=sd["conv_in.weight"].shape[1],
        out_channels=sd["conv_out.weight"].shape[0],
        layers_per_block=num_res_blocks,
        block_out_channels=tuple(out_channels),
        down_block_types=tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in attn),
        up_block_types=tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attn)),
        norm_num_groups=32,
        norm_eps=1e-6,
        downsample_padding=0,
        flip_sin_to_cos=False,
        freq_shift=1,
        time_embedding_type="positional",
        act_fn="silu",
        center_input_sample=False,
        mid_block_scale_factor=1,
        attention_head_dim=None,
        add_attention=True,
        resnet_time_scale_shift="default",
    )


_RESNET = {
    "norm1": "norm1",
    "conv1": "conv1",
    "temb_proj": "time_emb_proj",
    "norm2": "norm2",
    "conv2": "conv2",
    "nin_shortcut": "conv_shortcut",
}
_ATTN = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}


def _resnet_key(rest: str) -> str:
    layer, param = rest.split(".", 1)
    return f"{_RESNET[layer]}.{param}"


def _attn_key(rest: str) -> str:
    layer, param = rest.split(".", 1)
    return f"{_ATTN[layer]}.{param}"


def convert_key(key: str, levels: int) -> str:
    """The diffusers name of one pytorch_diffusion tensor name (see the module's table)."""
    fixed = {
        "temb.dense.0": "time_embedding.linear_1",
        "temb.dense.1": "time_embedding.linear_2",
        "conv_in": "conv_in",
        "conv_out": "conv_out",
        "norm_out": "conv_norm_out",
    }
    head, _, param = key.rpartition(".")
    if head in fixed:
        return f"{fixed[head]}.{param}"
    if m := re.fullmatch(r"down\.(\d+)\.block\.(\d+)\.(.+)", key):
        return f"down_blocks.{m[1]}.resnets.{m[2]}.{_resnet_key(m[3])}"
    if m := re.fullmatch(r"down\.(\d+)\.attn\.(\d+)\.(.+)", key):
        return f"down_blocks.{m[1]}.attentions.{m[2]}.{_attn_key(m[3])}"
    if m := re.fullmatch(r"down\.(\d+)\.downsample\.conv\.(.+)", key):
        return f"down_blocks.{m[1]}.downsamplers.0.conv.{m[2]}"
    if m := re.fullmatch(r"mid\.block_([12])\.(.+)", key):
        return f"mid_block.resnets.{int(m[1]) - 1}.{_resnet_key(m[2])}"
    if m := re.fullmatch(r"mid\.attn_1\.(.+)", key):
        return f"mid_block.attentions.0.{_attn_key(m[1])}"
    if m := re.fullmatch(r"up\.(\d+)\.block\.(\d+)\.(.+)", key):
        return f"up_blocks.{levels - 1 - int(m[1])}.resnets.{m[2]}.{_resnet_key(m[3])}"
    if m := re.fullmatch(r"up\.(\d+)\.attn\.(\d+)\.(.+)", key):
        return f"up_blocks.{levels - 1 - int(m[1])}.attentions.{m[2]}.{_attn_key(m[3])}"
    if m := re.fullmatch(r"up\.(\d+)\.upsample\.conv\.(.+)", key):
        return f"up_blocks.{levels - 1 - int(m[1])}.upsamplers.0.conv.{m[2]}"
    raise ValueError(f"unknown pytorch_diffusion tensor {key!r}")


def convert_state_dict(sd: dict) -> dict:
    """pytorch_diffusion names and shapes -> diffusers UNet2DModel names and shapes."""
    levels = _levels(sd, "down")
    out = {}
    for key, value in sd.items():
        new = convert_key(key, levels)
        if ".attentions." in new and new.endswith(".weight") and value.ndim == 4:
            value = value[:, :, 0, 0]  # a 1x1 convolution is a linear layer
        out[new] = value
    return out


def read_checkpoint(path: str | Path) -> dict:
    """The state dict in a .ckpt/.pth file (tensors only; a 'state_dict' or 'model' wrapper and 'module.' prefixes are undone)."""
    sd = torch.load(str(path), map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model", "ema"):
        if isinstance(sd, dict) and wrapper in sd and isinstance(sd[wrapper], dict):
            sd = sd[wrapper]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{path}: not a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def unet_from_state_dict(sd: dict, resolution: int = 256):
    """A diffusers UNet2DModel with the weights of a pytorch_diffusion state dict (every tensor used, none missing)."""
    # the defining module: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.models.unets.unet_2d import UNet2DModel

    unet = UNet2DModel(**infer_config(sd, resolution))
    unet.load_state_dict(convert_state_dict(sd), strict=True)
    return unet.eval()


def convert_checkpoint(checkpoint: str | Path, out_dir: str | Path, *, resolution: int = 256, identity: dict | None = None) -> Path:
    """Convert ``checkpoint`` into a diffusers folder (U-Net, DDIM scheduler, chatface.json identity)."""
    # the defining module: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.schedulers.scheduling_ddim import DDIMScheduler

    from .provenance import write_identity

    out = Path(out_dir)
    unet = unet_from_state_dict(read_checkpoint(checkpoint), resolution)
    unet.save_pretrained(out)
    DDIMScheduler(**SCHEDULER_CONFIG).save_pretrained(out)
    if identity is not None:
        write_identity(out, identity)
    return out
