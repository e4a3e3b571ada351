"""Photos as the U-Net's tensors and back: uint8 H x W x 3 <-> 1 x 3 x H x W in [-1, 1]."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(image: np.ndarray, device, dtype) -> torch.Tensor:
    """uint8 H x W x 3 -> 1 x 3 x H x W in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].to(torch.float32) / 127.5 - 1.0
    return x.to(device=device, dtype=dtype)


def to_image(x: torch.Tensor) -> np.ndarray:
    x = ((x[0].detach().to(torch.float32).cpu().clamp(-1, 1) + 1) * 127.5).round()
    return x.permute(1, 2, 0).numpy().astype(np.uint8)
