"""Speed of the diffusion engine at the real size: google/ddpm-ema-celebahq-256's U-Net configuration, random weights.

Reports seconds per U-Net step, per inversion and per cached-inversion edit
(one reverse pass with h-space mapping networks active), for one and for
three attributes in one pass. Options: device, dtype (float16 / bfloat16 on
GPU), channels-last, torch.compile. No weights are downloaded: the
architecture is built from its config.

    python benchmarks/bench_diffusion.py --steps 20 [--device cuda --dtype float16 --channels-last --compile]

Target on a current data-centre GPU: a cached-inversion edit in under 1 s at
20 steps, and three attributes costing no more than one.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

CELEBAHQ_256 = dict(
    sample_size=256, in_channels=3, out_channels=3, layers_per_block=2, block_out_channels=(128, 128, 256, 256, 512, 512),
    down_block_types=("DownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"),
    norm_num_groups=32, norm_eps=1e-6, downsample_padding=0, flip_sin_to_cos=False, freq_shift=1,
    time_embedding_type="positional", act_fn="silu", center_input_sample=False, mid_block_scale_factor=1,
)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from diffusers import DDIMScheduler, UNet2DModel

    from chatface.models import ddim
    from chatface.models.base import EditSpec, Latent
    from chatface.models.diffusion_engine import DiffusionGenerator
    from chatface.models.hspace import MappingNetwork, MappingRegistry

    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    unet = UNet2DModel(**CELEBAHQ_256).to(args.device, dtype).eval()
    if args.channels_last:
        unet = unet.to(memory_format=torch.channels_last)
    if args.compile:
        unet = torch.compile(unet)
        unet.config = unet._orig_mod.config
        unet.mid_block = unet._orig_mod.mid_block
    sched = DDIMScheduler(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear", clip_sample=False)
    registry = MappingRegistry(None)
    for attr in ("smiling", "eyeglasses", "age"):  # real-size mapping networks (512 channels in, 512 hidden)
        registry._loaded[attr] = MappingNetwork(512, 512, 128).to(args.device, dtype).eval()
        registry.infos[attr] = None
    gen = DiffusionGenerator(unet, sched, registry, steps=args.steps, device=args.device, dtype=dtype)
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    print(f"U-Net {params:.1f} M parameters, {args.device} {args.dtype}{' channels-last' if args.channels_last else ''}"
          f"{' compiled' if args.compile else ''}, {args.steps} DDIM steps")

    x = torch.randn(1, 3, 256, 256, device=args.device, dtype=dtype)
    with torch.no_grad():
        for _ in range(2):  # warm-up (and compilation)
            unet(x, 500)
        sync(args.device)
        times = []
        for _ in range(max(3, args.repeat)):
            t0 = time.perf_counter()
            unet(x, 500)
            sync(args.device)
            times.append(time.perf_counter() - t0)
    print(f"U-Net step:                 {statistics.median(times):.4f} s")

    def timed(fn):
        out = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            sync(args.device)
            out.append(time.perf_counter() - t0)
        return statistics.median(out)

    x0 = torch.rand(1, 3, 256, 256, device=args.device, dtype=dtype) * 2 - 1
    noise = lambda x, t: unet(x, t).sample  # noqa: E731
    holder = {}
    t_inv = timed(lambda: holder.__setitem__("x_t", ddim.invert(noise, sched, x0, args.steps)))
    latent = Latent("diffusion", {"x_T": holder["x_t"].float().cpu().numpy()}, {"steps": args.steps})
    one = {"smiling": EditSpec(0.6, 450)}
    three = {"smiling": EditSpec(0.6, 450), "eyeglasses": EditSpec(0.6, 600), "age": EditSpec(0.6, 300)}
    t_one = timed(lambda: gen.render_aligned(latent, one))
    t_three = timed(lambda: gen.render_aligned(latent, three))
    print(f"inversion ({args.steps} steps):       {t_inv:.3f} s")
    print(f"edit, 1 attribute (cached): {t_one:.3f} s")
    print(f"edit, 3 attributes, 1 pass: {t_three:.3f} s  ({t_three / t_one:.2f}x one attribute)")


if __name__ == "__main__":
    main()
