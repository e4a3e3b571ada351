"""Deterministic DDIM (eta = 0) in both directions, on diffusers' DDIMScheduler.

The scheduler supplies the timesteps and the cumulative alphas; one step moves
a sample from the noise level of ``t_from`` to that of ``t_to`` with the same
predicted noise in both directions:

    x0  = (x_from - sqrt(1 - a_from) * eps) / sqrt(a_from)
    x_to = sqrt(a_to) * x0 + sqrt(1 - a_to) * eps

Sampling goes down the schedule (the same arithmetic as
``DDIMScheduler.step`` with eta = 0, which a test checks); inversion goes up
it, evaluating the model at the timestep it moves to, as DDIM inversion does.
When the model's noise prediction does not depend on its input, inversion
followed by sampling is exact, which a test also checks.

A model may return two predictions, ``(eps_x0, eps_dir)``: the clean sample is
predicted from the first and the step continues along the second. That is
Asyrp's asymmetric reverse process (x0 from the h-space-edited noise, the
direction from the original noise); one prediction serves both in plain DDIM.

The steps are the scheduler's own timesteps, each paired with the next one
(-1 after the last), whatever its spacing. Only what this arithmetic
implements is accepted: epsilon prediction, no clipping or thresholding.
"""

from __future__ import annotations

from typing import Callable

import torch

# the defining module: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
from diffusers.schedulers.scheduling_ddim import DDIMScheduler

# (x_t, t) -> predicted noise, or (noise for x0, noise for the direction)
NoiseModel = Callable[[torch.Tensor, int], "torch.Tensor | tuple[torch.Tensor, torch.Tensor]"]


def check_scheduler(scheduler: DDIMScheduler) -> None:
    """Refuse scheduler configurations whose arithmetic this module does not implement."""
    cfg = scheduler.config
    problems = []
    if cfg.get("prediction_type", "epsilon") != "epsilon":
        problems.append(f"prediction_type={cfg['prediction_type']!r} (only 'epsilon')")
    if cfg.get("clip_sample", False):
        problems.append("clip_sample=True")
    if cfg.get("thresholding", False):
        problems.append("thresholding=True")
    if problems:
        raise ValueError(f"unsupported scheduler configuration for deterministic DDIM: {', '.join(problems)}")


def timesteps(scheduler: DDIMScheduler, steps: int) -> list[int]:
    """The sampling timesteps, high to low (e.g. 950, 900, ... 0 for 20 of 1000 with 'leading' spacing)."""
    check_scheduler(scheduler)
    train_steps = scheduler.config["num_train_timesteps"]
    if steps < 1 or steps > train_steps:
        raise ValueError(f"steps must be in [1, {train_steps}], got {steps}")
    scheduler.set_timesteps(steps)
    return [int(t) for t in scheduler.timesteps]


def pairs(scheduler: DDIMScheduler, steps: int) -> list[tuple[int, int]]:
    """(t, t_next) for every reverse step, high to low; t_next is -1 (the clean sample) after the last."""
    ts = timesteps(scheduler, steps)
    return list(zip(ts, ts[1:] + [-1]))


def alpha_bar(scheduler: DDIMScheduler, t: int) -> torch.Tensor:
    """Cumulative alpha at ``t``; below 0 the scheduler's final alpha (1 with set_alpha_to_one)."""
    if t < 0:
        return torch.as_tensor(scheduler.final_alpha_cumprod, dtype=torch.float64)
    return scheduler.alphas_cumprod[t].to(torch.float64)


def predict_x0(x: torch.Tensor, eps: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The clean sample that ``x`` at noise level ``a`` points to along ``eps``."""
    a = a.to(x.dtype)
    return (x - (1 - a).sqrt() * eps) / a.sqrt()


def renoise(x0: torch.Tensor, eps: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """``x0`` taken to noise level ``a`` along ``eps``."""
    a = a.to(x0.dtype)
    return a.sqrt() * x0 + (1 - a).sqrt() * eps


def ddim_step(x: torch.Tensor, eps: torch.Tensor, a_from: torch.Tensor, a_to: torch.Tensor) -> torch.Tensor:
    """Move ``x`` from noise level ``a_from`` to ``a_to`` along the predicted noise ``eps``."""
    return renoise(predict_x0(x, eps, a_from), eps, a_to)


def _walk(
    model: NoiseModel, x: torch.Tensor, moves: list[tuple[int, torch.Tensor, torch.Tensor]], on_step: Callable[[int], None] | None
) -> torch.Tensor:
    """Apply DDIM steps (timestep the model is asked at, noise level from, noise level to) in order."""
    for i, (t, a_from, a_to) in enumerate(moves):
        eps = model(x, t)
        eps_x0, eps_dir = eps if isinstance(eps, tuple) else (eps, eps)
        x = renoise(predict_x0(x, eps_x0, a_from), eps_dir, a_to)
        if on_step is not None:
            on_step(i)
    return x


@torch.no_grad()
def invert(
    model: NoiseModel, scheduler: DDIMScheduler, x0: torch.Tensor, steps: int, on_step: Callable[[int], None] | None = None
) -> torch.Tensor:
    """x_0 -> x_T by deterministic DDIM inversion over ``steps`` steps (up the schedule)."""
    moves = [(t, alpha_bar(scheduler, t_next), alpha_bar(scheduler, t)) for t, t_next in reversed(pairs(scheduler, steps))]
    return _walk(model, x0, moves, on_step)


@torch.no_grad()
def sample(
    model: NoiseModel, scheduler: DDIMScheduler, x_t: torch.Tensor, steps: int, on_step: Callable[[int], None] | None = None
) -> torch.Tensor:
    """x_T -> x_0 by deterministic DDIM sampling over ``steps`` steps (down the schedule)."""
    moves = [(t, alpha_bar(scheduler, t), alpha_bar(scheduler, t_next)) for t, t_next in pairs(scheduler, steps)]
    return _walk(model, x_t, moves, on_step)
