"""diffusers' UNet2DModel in two halves, so that an h-space edit shares the encoder with the original.

Asyrp's and ChatFace's edits change only the middle block's output h (the
h-space). The encoder (conv_in, the down blocks, the middle block) and its skip
connections are the same for the original and the edited noise, so an edited
step runs them once and only the decoder twice, as one batch:

    enc = encode(unet, x_t, t)                       # h, skips, the timestep embedding
    eps_orig, eps_edit = decode(unet, enc, [enc.h, enc.h + delta_h]).chunk(2)

``decode(unet, encode(unet, x, t))`` is ``unet(x, t).sample`` exactly (a test
checks it). Only the plain UNet2DModel layouts are implemented (no class
conditioning, no skip blocks, no Fourier time embedding); others are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Encoded:
    """The encoder's result for a batch of B samples at one timestep."""

    h: torch.Tensor  # B x C x H x W: the middle block's output (h-space)
    skips: tuple[torch.Tensor, ...]  # the skip connections, in the order the down blocks made them
    emb: torch.Tensor  # B x D: the U-Net's own timestep embedding (what Asyrp's DeltaBlock reads)


def check_supported(unet) -> None:
    """Refuse UNet2DModel configurations whose forward pass this module does not reproduce."""
    cfg = unet.config
    problems = []
    if getattr(unet, "class_embedding", None) is not None:
        problems.append("class conditioning")
    if cfg.time_embedding_type != "positional":
        problems.append(f"time_embedding_type={cfg.time_embedding_type!r}")
    if unet.mid_block is None:
        problems.append("no middle block (no h-space)")
    if any(hasattr(b, "skip_conv") for b in [*unet.down_blocks, *unet.up_blocks]):
        problems.append("skip blocks")
    if problems:
        raise ValueError(f"unsupported UNet2DModel for h-space editing: {', '.join(problems)}")


def timestep_embedding(unet, t: int | torch.Tensor, batch: int, device) -> torch.Tensor:
    """The U-Net's timestep embedding (sinusoid, then its MLP), as UNet2DModel.forward computes it."""
    t = torch.as_tensor(t, device=device).reshape(-1)
    t = t * torch.ones(batch, dtype=t.dtype, device=device)
    return unet.time_embedding(unet.time_proj(t).to(dtype=unet.dtype))


def encode(unet, x: torch.Tensor, t: int | torch.Tensor) -> Encoded:
    """conv_in, the down blocks and the middle block at timestep ``t``."""
    if unet.config.center_input_sample:
        x = 2 * x - 1.0
    emb = timestep_embedding(unet, t, x.shape[0], x.device)
    sample = unet.conv_in(x)
    skips: tuple[torch.Tensor, ...] = (sample,)
    for block in unet.down_blocks:
        sample, res = block(hidden_states=sample, temb=emb)
        skips += res
    return Encoded(h=unet.mid_block(sample, emb), skips=skips, emb=emb)


def decode(unet, enc: Encoded, hs: list[torch.Tensor] | None = None) -> torch.Tensor:
    """The predicted noise from the up blocks, for ``enc.h`` or for each of ``hs`` in one batch.

    Every tensor of ``hs`` has the shape of ``enc.h``; the result stacks their
    predictions along the batch in the same order (the skips and the embedding
    are repeated, not recomputed).
    """
    n = 1 if hs is None else len(hs)
    sample = enc.h if hs is None else torch.cat(hs, dim=0)
    skips = enc.skips if n == 1 else tuple(s.repeat(n, 1, 1, 1) for s in enc.skips)
    emb = enc.emb if n == 1 else enc.emb.repeat(n, 1)
    for block in unet.up_blocks:
        res, skips = skips[-len(block.resnets):], skips[: -len(block.resnets)]
        sample = block(sample, res, emb)
    sample = unet.conv_out(unet.conv_act(unet.conv_norm_out(sample)))
    return sample
