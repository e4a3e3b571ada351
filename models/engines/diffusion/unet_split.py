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

The decoder is most of the U-Net (73% of the FLOPs of the CelebA-HQ model), so
sharing the encoder alone leaves an edited step at 1.73 evaluations.
``decode_pair`` also shares the skip connections' part of every decoder
resnet: each one reads ``cat([h_branch, skip])``, and its GroupNorm, SiLU and
convolutions split along those channels into a part of the branch and a part
of the skip, which is the same for both branches and is computed once. Only
the channels of a GroupNorm group that straddles the boundary are normalised
per branch. The result equals ``decode`` on the two h (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


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
        res, skips = skips[-len(block.resnets) :], skips[: -len(block.resnets)]
        sample = block(sample, res, emb)
    sample = unet.conv_out(unet.conv_act(unet.conv_norm_out(sample)))
    return sample


def _shares_skip(resnet) -> bool:
    """Whether ``resnet`` is the plain ResnetBlock2D that _resnet_shared_skip reproduces."""
    return (
        isinstance(resnet.norm1, nn.GroupNorm)
        and isinstance(resnet.nonlinearity, nn.SiLU)
        and resnet.upsample is None
        and resnet.downsample is None
        and resnet.time_embedding_norm == "default"
        and not resnet.skip_time_act
        and resnet.time_emb_proj is not None
        and resnet.conv1.groups == 1
    )


def _split_group_norm(norm: nn.GroupNorm, x: torch.Tensor, skip: torch.Tensor):
    """GroupNorm of cat([x, skip repeated]) over channels, from per-channel moments, without repeating ``skip``.

    Returns the normalised x (n*B rows), the normalised skip channels that share a
    group with x's channels (n*B rows; none when the boundary falls between
    groups) and the normalised remaining skip channels (B rows, the same for
    every branch).
    """
    n = x.shape[0] // skip.shape[0]
    c_x, c = x.shape[1], x.shape[1] + skip.shape[1]
    size = c // norm.num_groups
    first_shared = -(-c_x // size) * size  # the first channel of the first group with no x channel
    xf, sf = x.float(), skip.float()
    mean = torch.cat([xf.mean((2, 3)), sf.mean((2, 3)).repeat(n, 1)], dim=1)
    square = torch.cat([xf.square().mean((2, 3)), sf.square().mean((2, 3)).repeat(n, 1)], dim=1)
    g_mean = mean.view(-1, norm.num_groups, size).mean(-1)
    g_var = (square.view(-1, norm.num_groups, size).mean(-1) - g_mean.square()).clamp_min(0)
    mean_c = g_mean.repeat_interleave(size, dim=1)[:, :, None, None]
    inv_c = torch.rsqrt(g_var + norm.eps).repeat_interleave(size, dim=1)[:, :, None, None]
    w, b = norm.weight.float()[None, :, None, None], norm.bias.float()[None, :, None, None]

    def normed(values, rows, lo, hi):
        return ((values - mean_c[rows, lo:hi]) * inv_c[rows, lo:hi] * w[:, lo:hi] + b[:, lo:hi]).to(x.dtype)

    every, first = slice(None), slice(0, skip.shape[0])
    k = first_shared - c_x
    mixed = normed(sf[:, :k].repeat(n, 1, 1, 1), every, c_x, first_shared) if k else None
    return normed(xf, every, 0, c_x), mixed, normed(sf[:, k:], first, first_shared, c)


def _resnet_shared_skip(resnet, x: torch.Tensor, skip: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    """``resnet(cat([x, skip repeated]), emb repeated)`` with the skip's share of norm1, conv1 and the shortcut done once."""
    n = x.shape[0] // skip.shape[0]
    c_x = x.shape[1]
    norm_x, norm_mixed, norm_skip = _split_group_norm(resnet.norm1, x, skip)
    k = 0 if norm_mixed is None else norm_mixed.shape[1]
    conv = resnet.conv1
    w = conv.weight

    def conv1(inputs, weight, bias=None):
        return F.conv2d(inputs, weight, bias, conv.stride, conv.padding, conv.dilation)

    hidden = conv1(resnet.nonlinearity(norm_x), w[:, :c_x])
    if k:
        hidden = hidden + conv1(resnet.nonlinearity(norm_mixed), w[:, c_x : c_x + k])
    hidden = hidden + conv1(resnet.nonlinearity(norm_skip), w[:, c_x + k :], conv.bias).repeat(n, 1, 1, 1)
    hidden = hidden + resnet.time_emb_proj(resnet.nonlinearity(emb)).repeat(n, 1)[:, :, None, None]
    hidden = resnet.conv2(resnet.dropout(resnet.nonlinearity(resnet.norm2(hidden))))
    if resnet.conv_shortcut is not None:
        sc = resnet.conv_shortcut
        shortcut = F.conv2d(x, sc.weight[:, :c_x], None, sc.stride, sc.padding) + F.conv2d(
            skip, sc.weight[:, c_x:], sc.bias, sc.stride, sc.padding
        ).repeat(n, 1, 1, 1)
    else:
        shortcut = torch.cat([x, skip.repeat(n, 1, 1, 1)], dim=1)
    return (shortcut + hidden) / resnet.output_scale_factor


def decode_pair(unet, enc: Encoded, h_edit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise for ``enc.h``, noise for ``h_edit``): the decoder on both, the skips' share of its resnets computed once."""
    if not all(_shares_skip(r) for block in unet.up_blocks for r in block.resnets):
        noise_orig, noise_edit = decode(unet, enc, [enc.h, h_edit]).chunk(2)
        return noise_orig, noise_edit
    sample = torch.cat([enc.h, h_edit], dim=0)
    skips = enc.skips
    for block in unet.up_blocks:
        attentions = getattr(block, "attentions", None) or [None] * len(block.resnets)
        for resnet, attn in zip(block.resnets, attentions):
            skip, skips = skips[-1], skips[:-1]
            sample = _resnet_shared_skip(resnet, sample, skip, enc.emb)
            if attn is not None:
                sample = attn(sample)
        for upsampler in block.upsamplers or []:
            sample = upsampler(sample)
    sample = unet.conv_out(unet.conv_act(unet.conv_norm_out(sample)))
    return sample.chunk(2)
