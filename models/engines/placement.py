"""Where a torch engine runs: the caller's device and precision, or the defaults, named once for every engine.

The caller chooses (``--device``, ``--dtype``, CHATFACE_DEVICE, CHATFACE_DTYPE); without a choice an engine runs on
CUDA when there is one, in float16 there and float32 on the CPU. A precision this code does not implement is refused.
"""

from __future__ import annotations

DTYPES = ("float32", "float16", "bfloat16")


def torch_placement(device: str | None = None, dtype: str | None = None):
    """(device, torch dtype) for the caller's choices; unknown precisions are refused with the list of known ones."""
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    name = dtype or ("float16" if str(device).startswith("cuda") else "float32")
    if name not in DTYPES:
        raise ValueError(f"unknown precision {name!r}; choose one of {', '.join(DTYPES)}")
    return device, getattr(torch, name)
