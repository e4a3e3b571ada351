"""Speed of the diffusion engine at the real size: SDEdit's CelebA-HQ U-Net layout (as converted), Asyrp's networks.

The U-Net is built from the configuration that ``models/pytorch_diffusion.py``
infers from ``celeba_hq.ckpt`` (ch 128, ch_mult 1,1,2,2,4,4, attention at 16,
256x256), with random weights: no download. The h-space networks are Asyrp's
real smiling, tanned and young networks when ../shared holds them, else random
DeltaBlocks of the same shape. Reported:

- seconds per plain U-Net step and per edited step (encoder once, decoder on
  the original and the edited h in one batch with the skips' share of its
  resnets computed once), and their ratio;
- the FLOPs of an edited step in U-Net evaluations (and what the decoder's
  share alone would make it), hence the U-Net evaluations of a whole edit;
- seconds per inversion and per cached-inversion edit with 1 and 3 attributes.

    python benchmarks/bench_diffusion.py --steps 40 [--device cuda --dtype float16 --channels-last --compile]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

CELEBAHQ_256 = dict(
    sample_size=256,
    in_channels=3,
    out_channels=3,
    layers_per_block=2,
    block_out_channels=(128, 128, 256, 256, 512, 512),
    down_block_types=("DownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"),
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
SHARED = Path(__file__).resolve().parents[2] / "shared" / "weights" / "asyrp-celebahq"


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40, help="DDIM steps (Asyrp's networks were trained with 40)")
    ap.add_argument("--t-edit", type=int, default=500)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", action="store_true", help="torch.compile every block the split U-Net calls")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from chatface.models.base import EditSpec, Latent
    from chatface.models.engines.diffusion import ddim, unet_split
    from chatface.models.engines.diffusion.engine import DiffusionGenerator
    from chatface.models.engines.diffusion.hspace import AsyrpDeltaBlock, MappingRegistry, save_mapping
    from chatface.models.weights.asyrp import convert_network, file_name
    from chatface.models.weights.pytorch_diffusion import SCHEDULER_CONFIG
    from diffusers import DDIMScheduler, UNet2DModel

    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    unet = UNet2DModel(**CELEBAHQ_256).to(args.device, dtype).eval()
    if args.channels_last:
        unet = unet.to(memory_format=torch.channels_last)
    if args.compile:
        for block in [unet.conv_in, *unet.down_blocks, unet.mid_block, *unet.up_blocks]:
            block.compile()
    sched = DDIMScheduler(**SCHEDULER_CONFIG)

    import tempfile

    mappings = Path(tempfile.mkdtemp(prefix="bench-mappings-"))
    real = SHARED.is_dir()
    for name in ("smiling", "tanned", "young"):
        if real:
            convert_network(SHARED / file_name(name), mappings, name, base_model="bench", sha256="-")
        else:
            attr = {"young": "age"}.get(name, name)
            save_mapping(AsyrpDeltaBlock(512, 512), mappings / f"{attr}.safetensors", attribute=attr, text={}, base_model="bench")
    registry = MappingRegistry(mappings, channels=512, temb_channels=512, base_model="bench", device=args.device, dtype=dtype)
    gen = DiffusionGenerator(unet, sched, registry, steps=args.steps, device=args.device, dtype=dtype)
    params = sum(p.numel() for p in unet.parameters()) / 1e6
    print(
        f"U-Net {params:.1f} M parameters, {args.device} {args.dtype}{' channels-last' if args.channels_last else ''}"
        f"{' compiled' if args.compile else ''}, {args.steps} DDIM steps, T_edit {args.t_edit}; "
        f"networks: {'Asyrp real (smiling, tanned, young)' if real else 'random DeltaBlocks'}"
    )

    def timed(fn, repeat=args.repeat):
        out = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            sync(args.device)
            out.append(time.perf_counter() - t0)
        return statistics.median(out)

    x = torch.randn(1, 3, 256, 256, device=args.device, dtype=dtype)
    if args.channels_last:
        x = x.to(memory_format=torch.channels_last)
    one = {"smiling": EditSpec(0.6, args.t_edit)}
    three = {"smiling": EditSpec(0.6, args.t_edit), "tanned": EditSpec(0.6, args.t_edit), "age": EditSpec(0.6, args.t_edit)}
    edit_one = gen._edit_noise([registry.active(a, s.strength, s.t_edit) for a, s in one.items()])
    edit_three = gen._edit_noise([registry.active(a, s.strength, s.t_edit) for a, s in three.items()])
    with torch.no_grad():
        for _ in range(2):  # warm-up (and compilation)
            gen._plain_noise(x, 999)
            edit_one(x, 999)
            edit_three(x, 999)
        t_plain = timed(lambda: gen._plain_noise(x, 999))
        t_edit1 = timed(lambda: edit_one(x, 999))
        t_edit3 = timed(lambda: edit_three(x, 999))
    print(f"U-Net step, plain:              {t_plain:.4f} s")
    print(f"edited step, 1 network:         {t_edit1:.4f} s  ({t_edit1 / t_plain:.2f}x a plain step)")
    print(f"edited step, 3 networks:        {t_edit3:.4f} s  ({t_edit3 / t_plain:.2f}x a plain step)")
    f_plain = flops(lambda: gen._plain_noise(x, 999))
    f_edit = flops(lambda: edit_one(x, 999)) / f_plain
    share = 1 - flops(lambda: unet_split.encode(unet, x, 999)) / f_plain
    print(
        f"edited step in FLOPs:           {f_edit:.2f} U-Net evaluations "
        f"(sharing the encoder alone: {1 + share:.2f}; the decoder is {share:.0%} of the U-Net)"
    )

    x0 = torch.rand(1, 3, 256, 256, device=args.device, dtype=dtype) * 2 - 1
    holder = {}
    t_inv = timed(lambda: holder.__setitem__("x_t", ddim.invert(gen._plain_noise, sched, x0, args.steps)), repeat=1)
    latent = Latent("diffusion", {"x_T": holder["x_t"].float().cpu().numpy()}, {"steps": args.steps})
    t_one = timed(lambda: gen.render_aligned(latent, one), repeat=max(1, args.repeat - 2))
    edited = len(gen.last_applied_steps)
    t_three = timed(lambda: gen.render_aligned(latent, three), repeat=max(1, args.repeat - 2))
    evals = (args.steps - edited) + edited * f_edit
    print(f"inversion ({args.steps} steps):         {t_inv:.3f} s")
    print(f"edit, 1 attribute (cached):     {t_one:.3f} s  ({edited} of {args.steps} steps edited; {evals:.1f} U-Net evaluations)")
    print(
        f"edit, 3 attributes, 1 pass:     {t_three:.3f} s  ({t_three / t_one:.2f}x one attribute, "
        f"{len(gen.last_applied_steps)} steps edited)"
    )


if __name__ == "__main__":
    main()
