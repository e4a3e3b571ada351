"""Time and memory of LEDITS++ edits with 1 and 3 concepts (inversion once, then renders from the stored inversion).

    python benchmarks/bench_ledits.py                          # tiny random pipeline on the CPU (the plumbing's cost)
    python benchmarks/bench_ledits.py --models DIR --device cuda --dtype float16 --steps 50   # a real pipeline (MODELS/sd)

Prints seconds per inversion and per render, U-Net calls, and peak memory (CUDA when on a GPU, else the process's RSS).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=None, help="a models folder with sd/ (default: a tiny random one made now)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import torch
    from chatface.models.base import EditSpec
    from chatface.models.engines.ledits import load_ledits_engine
    from chatface.models.weights.tiny import make_tiny_ledits
    from chatface.tools.vocabulary import default_vocabulary
    from skimage import data

    models = args.models or str(make_tiny_ledits(tempfile.mkdtemp(prefix="bench-ledits-")))
    parts = load_ledits_engine(models, concepts=default_vocabulary().concepts(), device=args.device, dtype=args.dtype, steps=args.steps)
    gen, photo = parts.generator, data.astronaut()
    t = time.perf_counter()
    latent = gen.invert(photo)
    print(f"pipeline {gen.model_id}, {gen.size}x{gen.size}, {args.steps} steps, {args.device} {args.dtype}")
    print(f"inversion: {time.perf_counter() - t:.2f} s")
    for edits in (
        {"smiling": EditSpec(0.6, 500)},
        {"smiling": EditSpec(0.6, 500), "eyeglasses": EditSpec(0.6, 600), "hat": EditSpec(0.6, 400)},
    ):
        if args.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            gen.decode(photo, latent, edits)
            times.append(time.perf_counter() - t)
        peak = (
            f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB CUDA"
            if args.device.startswith("cuda")
            else f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB RSS"
        )
        print(
            f"{len(edits)} concept(s): {min(times):.2f} s per render (best of {args.repeats}), {gen.last_unet_calls} U-Net calls, peak "
            f"{peak}"
        )


if __name__ == "__main__":
    main()
