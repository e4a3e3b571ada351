"""Style from a reference photo, training-free: h-space content injection (Jeong et al., WACV 2024).

The U-Net's h-space (the middle block's output) carries a face's content, while
the skip connections carry its look: colours, light, texture. Content
injection runs the *reference's* generative process (from the reference's x_T)
and, at the early steps (t >= t_edit), replaces the reference's h with a blend
of it and the user's h from the user's own generative process, run beside it
in the same batch. The skip connections stay the reference's, so the result has
the user's face in the reference's look.

The blend is a spherical interpolation. The paper found that h must keep the
norm the reference's skip connections expect, so the user's h is first scaled
to the reference's norm, and slerp between two vectors of one norm keeps it:

    h_mix = slerp(h_ref, h_user * |h_ref| / |h_user|, gamma)

``gamma`` is the content weight: 0 is the reference's plain reconstruction,
1 puts the user's h in whole. As in the rest of this engine (Asyrp's reverse
process), each injected step predicts x0 from the injected noise and continues
along the reference's own noise. The paper's latent calibration and its
quality-boosting steps are not implemented.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ...base import STYLE_T_EDIT
from . import ddim, unet_split
from .hspace import ActiveEdit, hspace_shift

# chatface's "style" strength s in (0, 1] is the reference's share: the content weight is 1 - s * (1 - MIN_CONTENT)
MIN_CONTENT = 0.5
__all__ = ["STYLE_T_EDIT", "content_injection", "content_weight", "inject", "slerp"]


def content_weight(strength: float) -> float:
    """The injection's content weight gamma for a style strength in (0, 1]: more strength, more of the reference."""
    if not 0 < strength <= 1:
        raise ValueError(f"a style strength is in (0, 1], got {strength}")
    return 1.0 - strength * (1.0 - MIN_CONTENT)


def slerp(a: torch.Tensor, b: torch.Tensor, weight: float) -> torch.Tensor:
    """Spherical interpolation from ``a`` (weight 0) to ``b`` (weight 1), per sample over all of its values.

    Between two vectors of equal norm the result has that norm at every weight; nearly parallel vectors are
    interpolated linearly (the limit of slerp), which keeps it too up to rounding."""
    if not 0 <= weight <= 1:
        raise ValueError(f"a slerp weight is in [0, 1], got {weight}")
    flat_a, flat_b = a.reshape(a.shape[0], -1).double(), b.reshape(b.shape[0], -1).double()
    cos = (flat_a * flat_b).sum(1) / (flat_a.norm(dim=1) * flat_b.norm(dim=1)).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))[:, None]
    sin = torch.sin(omega)
    linear = sin.abs() < 1e-6
    wa = torch.where(linear, torch.full_like(sin, 1.0 - weight), torch.sin((1.0 - weight) * omega) / sin.where(~linear, 1.0))
    wb = torch.where(linear, torch.full_like(sin, weight), torch.sin(weight * omega) / sin.where(~linear, 1.0))
    return (wa * flat_a + wb * flat_b).reshape(a.shape).to(a.dtype)


def inject(h_reference: torch.Tensor, h_content: torch.Tensor, gamma: float) -> torch.Tensor:
    """The reference's h with the content's h injected at weight ``gamma``, at the reference's norm (see the module)."""
    ref_norm = h_reference.reshape(h_reference.shape[0], -1).norm(dim=1)
    content_norm = h_content.reshape(h_content.shape[0], -1).norm(dim=1).clamp_min(1e-12)
    scaled = h_content * (ref_norm / content_norm).reshape(-1, *([1] * (h_content.dim() - 1)))
    return slerp(h_reference, scaled, gamma)


def injection_noise(unet, gamma: float, t_edit: int, content_edits: list[ActiveEdit], passes: dict[str, int] | None = None):
    """The noise model of the pair (reference, user) in one batch of two: the reference's h takes the user's at
    weight ``gamma`` at t >= t_edit; the user's own process carries its h-space attribute edits (``content_edits``),
    so a style combines with the other edits of the state. Returns (noise for x0, noise for the direction)."""
    counts = passes if passes is not None else {"encoder": 0, "decoder": 0}

    def eps(x: torch.Tensor, t: int):
        enc = unet_split.encode(unet, x, t)
        counts["encoder"] += 1
        delta = hspace_shift(content_edits, enc.h[1:2], t, enc.emb[1:2])
        h_user = enc.h[1:2] if delta is None else enc.h[1:2] + delta
        injecting = t >= t_edit and gamma > 0
        if not injecting and delta is None:
            counts["decoder"] += 1
            return unet_split.decode(unet, enc)
        h_ref = inject(enc.h[0:1], h_user, gamma) if injecting else enc.h[0:1]
        counts["decoder"] += 2
        eps_orig, eps_edit = unet_split.decode_pair(unet, enc, torch.cat([h_ref, h_user]))
        return eps_edit, eps_orig

    return eps


@torch.no_grad()
def content_injection(
    unet,
    scheduler,
    x_t_reference: torch.Tensor,
    x_t_content: torch.Tensor,
    gamma: float,
    t_edit: int,
    steps: int,
    *,
    content_edits: Sequence[ActiveEdit] = (),
    on_step=None,
    passes: dict[str, int] | None = None,
) -> torch.Tensor:
    """The reference's generative process from ``x_t_reference`` with the content of ``x_t_content`` injected
    (see the module); returns the clean sample (1 x C x H x W) in the U-Net's range."""
    if x_t_reference.shape != x_t_content.shape or x_t_reference.shape[0] != 1:
        raise ValueError(
            f"one reference and one content sample of one shape, got {tuple(x_t_reference.shape)} and {tuple(x_t_content.shape)}"
        )
    model = injection_noise(unet, gamma, t_edit, list(content_edits), passes)
    x0 = ddim.sample(model, scheduler, torch.cat([x_t_reference, x_t_content]), steps, on_step)
    return x0[0:1]
