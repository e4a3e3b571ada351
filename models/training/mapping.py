"""Training an attribute's mapping network f_A with ChatFace's losses.

For each training face (aligned, inverted once and cached), one reverse DDIM
pass runs from x_T. At every step with t >= T_edit the U-Net is called with
the h-space shift of f_A and without it; from both noise predictions we form
the predicted clean images P_t(edit) and P_t(orig) and minimise

    lambda_clip * (1 - cos(E_img(P_edit) - E_img(P_orig), E_txt(target) - E_txt(neutral)))
  + lambda_id   * (1 - cos(ArcFace(P_edit), ArcFace(P_orig)))
  + lambda_l1   * |delta_h|

(CLIP directional loss with open_clip, identity loss with the ArcFace ONNX
network converted to PyTorch by onnx2torch, L1 on the shift). The next
sample follows the edited prediction with the original noise, as in Asyrp's
asymmetric reverse process; gradients reach only f_A. Checkpoints hold the
network, the optimiser and the iteration, so ``--resume`` goes on where a
run stopped. The result is ``OUT/<attribute>.safetensors``, which the
MappingRegistry loads.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..engines.diffusion import ddim, unet_split
from ..engines.diffusion.hspace import MappingNetwork, save_mapping
from ..engines.diffusion.tensors import to_tensor
from ..faces.alignment import align_face, arcface_keypoints, arcface_matrix
from ..faces.detection import find_face
from ..images import IMAGE_SUFFIXES, load_image


@dataclass
class TrainSettings:
    attribute: str
    text: dict  # the attribute's CLIP texts: neutral, positive, negative (the caller's vocabulary)
    t_edit: int  # edit the steps t >= t_edit
    iterations: int = 200
    steps: int = 40
    lr: float = 2e-4
    lambda_clip: float = 1.0
    lambda_id: float = 0.5
    lambda_l1: float = 0.05
    hidden: int = 512
    time_dim: int = 128
    checkpoint_every: int = 50
    seed: int = 0


def _affine_theta(m_src_to_dst: np.ndarray, src_size: int, dst_size: int) -> torch.Tensor:
    """affine_grid theta that samples a dst_size square from a src_size square through the pixel map src -> dst."""
    to_h = lambda m: np.vstack([m, [0, 0, 1]])  # noqa: E731
    inv = np.linalg.inv(to_h(m_src_to_dst))  # dst pixel -> src pixel
    norm_to_dst = np.array([[dst_size / 2, 0, dst_size / 2 - 0.5], [0, dst_size / 2, dst_size / 2 - 0.5], [0, 0, 1]])
    src_to_norm = np.array([[2 / src_size, 0, 1 / src_size - 1], [0, 2 / src_size, 1 / src_size - 1], [0, 0, 1]])
    theta = src_to_norm @ inv @ norm_to_dst
    return torch.tensor(theta[:2], dtype=torch.float32)[None]


class Losses:
    """CLIP directional loss, ArcFace identity loss (PyTorch from the ONNX file), both differentiable."""

    def __init__(self, clip_name: str, clip_pretrained: str | None, arcface_path: str, device):
        import onnx2torch
        import open_clip

        if clip_name.startswith("local-dir:"):
            model, _, _ = open_clip.create_model_and_transforms(clip_name, device=device)
        else:
            model, _, _ = open_clip.create_model_and_transforms(clip_name, pretrained=clip_pretrained, device=device)
        self.clip = model.eval().requires_grad_(False)
        self.tokenizer = open_clip.get_tokenizer(clip_name)
        size = self.clip.visual.image_size
        self.clip_size = size[0] if isinstance(size, (tuple, list)) else int(size)
        self.mean = torch.tensor(self.clip.visual.image_mean or open_clip.OPENAI_DATASET_MEAN, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(self.clip.visual.image_std or open_clip.OPENAI_DATASET_STD, device=device).view(1, 3, 1, 1)
        self.arcface = onnx2torch.convert(str(arcface_path)).to(device).eval().requires_grad_(False)
        self.device = device

    def text_direction(self, neutral: str, target: str) -> torch.Tensor:
        with torch.no_grad():
            e = self.clip.encode_text(self.tokenizer([neutral, target]).to(self.device)).float()
        e = e / e.norm(dim=-1, keepdim=True)
        return e[1] - e[0]

    def clip_image(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate((x.float() + 1) / 2, size=(self.clip_size, self.clip_size), mode="bilinear", align_corners=False)
        e = self.clip.encode_image((x - self.mean) / self.std).float()
        return e / e.norm(dim=-1, keepdim=True)

    def identity(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(theta.to(x.device), [x.shape[0], 3, 112, 112], align_corners=False)
        face = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
        e = self.arcface(face).float()
        return e / e.norm(dim=-1, keepdim=True)


def prepare_faces(images_dir: Path, size: int, cache: Path, model_noise, scheduler, steps: int, device, dtype, log) -> list[dict]:
    """Align and invert every face in the folder once; x_T and the ArcFace crop map are cached on disk."""
    cache.mkdir(parents=True, exist_ok=True)
    faces = []
    for path in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        target = cache / f"{path.stem}-{steps}.pt"
        if target.exists():
            faces.append(torch.load(target))
            continue
        try:
            image = load_image(path)
            face = find_face(image)
        except Exception as exc:  # noqa: BLE001 - a bad photo is skipped and reported
            log(f"skipped {path.name}: {exc}")
            continue
        crop, al = align_face(image, face.landmarks, size)
        kps = arcface_keypoints(face.landmarks)
        kps_crop = (al.matrix[:, :2] @ kps.T.astype(np.float64)).T + al.matrix[:, 2]
        m_arc = arcface_matrix(kps_crop, 112)
        x_t = ddim.invert(model_noise, scheduler, to_tensor(crop, device, dtype), steps)
        item = {"name": path.name, "x_T": x_t.cpu(), "theta": _affine_theta(m_arc, size, 112)}
        torch.save(item, target)
        faces.append(item)
    return faces


def train_direction(
    settings: TrainSettings,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    unet,
    scheduler,
    base_model: str,
    clip_name: str,
    clip_pretrained: str | None,
    arcface_path: str,
    device="cpu",
    dtype=torch.float32,
    resume: bool = False,
    progress: bool = True,
    log=print,
) -> Path:
    text, t_edit = settings.text, settings.t_edit
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unet = unet.to(device=device, dtype=dtype).eval().requires_grad_(False)
    size = int(unet.config.sample_size)
    channels = int(unet.config.block_out_channels[-1])

    def noise(x, t):
        return unet(x, t).sample

    faces = prepare_faces(Path(images_dir), size, out / "cache", noise, scheduler, settings.steps, device, dtype, log)
    if not faces:
        raise ValueError(f"{images_dir}: no photo with a usable face")
    losses = Losses(clip_name, clip_pretrained, arcface_path, device)
    text_dir = losses.text_direction(text["neutral"], text["positive"])

    torch.manual_seed(settings.seed)
    net = MappingNetwork(channels, settings.hidden, settings.time_dim).to(device)
    torch.nn.init.zeros_(net.conv_out.weight)  # start at the identity: no shift
    if net.conv_out.bias is None:  # MappingNetwork's conv_out is built with a bias
        raise ValueError("the mapping network's output convolution has no bias to start at zero")
    torch.nn.init.zeros_(net.conv_out.bias)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    start = 0
    ckpt_path = out / f"{settings.attribute}.checkpoint.pt"
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        if ckpt["settings"]["attribute"] != settings.attribute:
            raise ValueError(f"{ckpt_path} is a checkpoint for {ckpt['settings']['attribute']}")
        net.load_state_dict(ckpt["network"])
        opt.load_state_dict(ckpt["optimizer"])
        start = int(ckpt["iteration"])
        log(f"resuming at iteration {start}")
    rng = random.Random(settings.seed + start)
    history: list[dict] = []

    def save(iteration: int) -> None:
        torch.save(
            {"network": net.state_dict(), "optimizer": opt.state_dict(), "iteration": iteration, "settings": asdict(settings)}, ckpt_path
        )
        save_mapping(
            net,
            out / f"{settings.attribute}.safetensors",
            attribute=settings.attribute,
            text=text,
            base_model=base_model,
            training={
                **asdict(settings),
                "t_edit": t_edit,
                "iterations_done": iteration,
                "faces": len(faces),
                "clip": clip_name,
                "arcface": str(arcface_path),
            },
        )

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=settings.iterations, initial=start, unit="it", desc=f"train {settings.attribute}", dynamic_ncols=True)
    net.train()
    for it in range(start, settings.iterations):
        face = faces[rng.randrange(len(faces))]
        x = face["x_T"].to(device=device, dtype=dtype)
        total = {"clip": 0.0, "id": 0.0, "l1": 0.0}
        for t, t_prev in ddim.pairs(scheduler, settings.steps):
            if t < t_edit:
                break
            a_t, a_prev = ddim.alpha_bar(scheduler, t), ddim.alpha_bar(scheduler, t_prev)
            with torch.no_grad():  # the encoder is shared by the original and the edited noise
                enc = unet_split.encode(unet, x, t)
                eps_orig = unet_split.decode(unet, enc)
            delta = net(enc.h, t, enc.emb)
            eps_edit = unet_split.decode(unet, enc, [enc.h + delta])
            p_edit = ddim.predict_x0(x, eps_edit, a_t)
            p_orig = ddim.predict_x0(x, eps_orig, a_t)
            d_img = losses.clip_image(p_edit) - losses.clip_image(p_orig)
            l_clip = 1 - F.cosine_similarity(d_img, text_dir[None], dim=-1).mean()
            l_id = 1 - F.cosine_similarity(losses.identity(p_edit, face["theta"]), losses.identity(p_orig, face["theta"]), dim=-1).mean()
            l_l1 = delta.abs().mean()
            loss = settings.lambda_clip * l_clip + settings.lambda_id * l_id + settings.lambda_l1 * l_l1
            opt.zero_grad()
            loss.backward()
            opt.step()
            total["clip"] += float(l_clip)
            total["id"] += float(l_id)
            total["l1"] += float(l_l1)
            with torch.no_grad():  # asymmetric reverse process: edited prediction, original noise
                x = ddim.renoise(p_edit.detach(), eps_orig, a_prev)
        history.append({"iteration": it + 1, **{k: round(v, 5) for k, v in total.items()}})
        if bar is not None:
            bar.update(1)
            bar.set_postfix(clip=f"{total['clip']:.3f}", id=f"{total['id']:.3f}")
        if (it + 1) % settings.checkpoint_every == 0 or it + 1 == settings.iterations:
            save(it + 1)
    if bar is not None:
        bar.close()
    if start >= settings.iterations:
        save(start)
    with open(out / f"{settings.attribute}.log.jsonl", "a", encoding="utf-8") as f:
        for h in history:
            f.write(json.dumps(h) + "\n")
    return out / f"{settings.attribute}.safetensors"


def training_unet(models_dir: str | None, sources: dict | None, device: str | None):
    """(the models folder's sources, its U-Net and scheduler in float32 on ``device``, the U-Net's id, the device):
    what every training command starts from, whatever the engine's precision."""
    from ..engines.diffusion.loading import load_unet
    from ..engines.placement import torch_placement
    from ..weights.provenance import unet_id
    from ..weights.sources import resolve_sources

    src = resolve_sources(models_dir, **(sources or {}))
    device, _ = torch_placement(device, "float32")
    unet, scheduler = load_unet(src.unet, device)
    return src, unet, scheduler, unet_id(src.unet), device


def train_direction_in_models(
    settings: TrainSettings,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    models_dir: str | None,
    sources: dict | None = None,
    device: str | None = None,
    resume: bool = False,
    progress: bool = True,
    log=print,
) -> Path:
    """``train_direction`` on the U-Net, CLIP and ArcFace of a models folder (the same sources the engine loads),
    on the caller's device (default: CUDA when there is one). The network records the U-Net's id, so the engine
    uses it only with that U-Net."""
    from ..scorers.arcface import resolve_arcface_path

    src, unet, scheduler, base_model, device = training_unet(models_dir, sources, device)
    return train_direction(
        settings,
        images_dir,
        out_dir,
        unet=unet,
        scheduler=scheduler,
        base_model=base_model,
        clip_name=src.clip,
        clip_pretrained=src.clip_pretrained,
        arcface_path=str(resolve_arcface_path(src.arcface)),
        device=device,
        resume=resume,
        progress=progress,
        log=log,
    )
