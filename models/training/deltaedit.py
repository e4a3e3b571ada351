"""Training DeltaEdit's text-free mapper in h-space from a folder of face photos (no texts, no labels).

Every face is aligned and inverted once (cached, as for ChatFace's networks),
then one plain reverse DDIM pass from its x_T records h_t at the editing steps
(t >= T_edit), and CLIP embeds the aligned face. A training step draws pairs
of faces (i, j) and one editing step t, and fits

    g(normalise(E_img(j) - E_img(i)), h_t(i), t)  ~  h_t(j) - h_t(i)

with DeltaEdit's two losses on the latent difference: the mean squared error
and the cosine distance (1 - cos) between the predicted and the true delta_h.
Checkpoints hold the mapper, the optimiser and the iteration, so ``--resume``
goes on where a run stopped; the log has one JSON line per iteration. The
result is ``OUT/mapper.safetensors``, which the diffusion engine loads from
MODELS/deltaedit/ for the attributes that have no network of their own.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..engines.diffusion import ddim, unet_split
from ..engines.diffusion.delta_mapper import FILE_NAME, DeltaMapper, save_delta_mapper, unit
from .mapping import prepare_faces, training_unet


@dataclass
class DeltaSettings:
    t_edit: int = 500  # learn the steps t >= t_edit (Asyrp's editing interval)
    iterations: int = 2000
    steps: int = 40
    batch: int = 8  # pairs per iteration
    lr: float = 1e-4
    lambda_mse: float = 1.0
    lambda_cos: float = 1.0
    hidden: int = 512
    time_dim: int = 128
    checkpoint_every: int = 200
    seed: int = 0


def _clip_model(name: str, pretrained: str | None, device):
    import open_clip

    if name.startswith("local-dir:"):
        model, _, _ = open_clip.create_model_and_transforms(name, device=device)
    else:
        model, _, _ = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device)
    return model.eval().requires_grad_(False)


def clip_image_features(model, x: torch.Tensor) -> torch.Tensor:
    """Unit CLIP image embeddings of U-Net-range images (B x 3 x H x W in [-1, 1])."""
    import open_clip

    size = model.visual.image_size
    side = size[0] if isinstance(size, (tuple, list)) else int(size)
    mean = torch.tensor(model.visual.image_mean or open_clip.OPENAI_DATASET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std or open_clip.OPENAI_DATASET_STD, device=x.device).view(1, 3, 1, 1)
    x = F.interpolate((x.float() + 1) / 2, size=(side, side), mode="bilinear", align_corners=False)
    return unit(model.encode_image((x - mean) / std).float())


@torch.no_grad()
def trajectories(unet, scheduler, faces: list[dict], steps: int, t_edit: int, device) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """(editing timesteps, h of every face at each of them: N x S x C x H x W, the reconstructions: N x 3 x H x W)
    from one plain reverse pass per face."""
    hs: list[torch.Tensor] = []
    recons: list[torch.Tensor] = []
    ts: list[int] = []
    for face in faces:
        seen: list[torch.Tensor] = []

        def eps(x: torch.Tensor, t: int) -> torch.Tensor:
            enc = unet_split.encode(unet, x, t)
            if t >= t_edit:
                seen.append(enc.h[0].float().cpu())
                if len(hs) == 0:
                    ts.append(int(t))
            return unet_split.decode(unet, enc)

        recons.append(ddim.sample(eps, scheduler, face["x_T"].to(device), steps)[0].float().cpu())
        hs.append(torch.stack(seen))
    if not ts:
        raise ValueError(f"no sampling step has t >= {t_edit}: lower --t-edit")
    return ts, torch.stack(hs), torch.stack(recons)


def train_delta_mapper(
    settings: DeltaSettings,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    unet,
    scheduler,
    base_model: str,
    clip_name: str,
    clip_pretrained: str | None,
    device="cpu",
    resume: bool = False,
    log=print,
) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    unet = unet.to(device).eval().requires_grad_(False)
    size = int(unet.config.sample_size)

    def plain(x, t):
        return unet(x, t).sample

    faces = prepare_faces(Path(images_dir), size, out / "cache", plain, scheduler, settings.steps, device, torch.float32, log)
    if len(faces) < 2:
        raise ValueError(f"{images_dir}: DeltaEdit learns from pairs of faces; found {len(faces)} usable photo(s)")
    ts, hs, recons = trajectories(unet, scheduler, faces, settings.steps, settings.t_edit, device)
    clip = _clip_model(clip_name, clip_pretrained, device)
    with torch.no_grad():
        feats = clip_image_features(clip, recons.to(device)).cpu()
    clip_dim = int(feats.shape[1])
    mapper = DeltaMapper(clip_dim, int(hs.shape[2]), settings.hidden, settings.time_dim).to(device)
    opt = torch.optim.Adam(mapper.parameters(), lr=settings.lr)
    ckpt, log_path = out / "deltaedit.ckpt", out / "deltaedit.log.jsonl"
    start = 0
    if resume and ckpt.exists():
        state = torch.load(ckpt, map_location=device)
        mapper.load_state_dict(state["mapper"])
        opt.load_state_dict(state["optimizer"])
        start = int(state["iteration"])
        log(f"resuming at iteration {start}")
    elif log_path.exists():
        log_path.unlink()
    n = len(faces)

    def save(iteration: int, last: dict) -> Path:
        torch.save({"mapper": mapper.state_dict(), "optimizer": opt.state_dict(), "iteration": iteration}, ckpt)
        training = {
            **asdict(settings),
            "method": "deltaedit",
            "iterations_done": iteration,
            "images": n,
            "editing_steps": ts,
            "last_losses": last,
        }
        return save_delta_mapper(mapper, out / FILE_NAME, base_model=base_model, clip_model=clip_name, training=training)

    last: dict = {}
    path = out / FILE_NAME
    for it in range(start, settings.iterations):
        pairs = [tuple(rng.sample(range(n), 2)) for _ in range(settings.batch)]
        steps = [rng.randrange(len(ts)) for _ in pairs]
        i = torch.tensor([p[0] for p in pairs])
        j = torch.tensor([p[1] for p in pairs])
        s = torch.tensor(steps)
        h_i, h_j = hs[i, s].to(device), hs[j, s].to(device)
        delta_clip = unit(feats[j] - feats[i]).to(device)
        t = torch.tensor([ts[k] for k in steps], device=device)
        pred = mapper(delta_clip, h_i, t)
        target = h_j - h_i
        mse = F.mse_loss(pred, target)
        cos = 1 - F.cosine_similarity(pred.flatten(1), target.flatten(1), dim=1).mean()
        loss = settings.lambda_mse * mse + settings.lambda_cos * cos
        opt.zero_grad()
        loss.backward()
        opt.step()
        last = {"loss": float(loss.detach()), "mse": float(mse.detach()), "cos": float(cos.detach())}
        with log_path.open("a") as f:
            f.write(json.dumps({"iteration": it + 1, **last}) + "\n")
        if (it + 1) % settings.checkpoint_every == 0 or it + 1 == settings.iterations:
            path = save(it + 1, last)
    if start >= settings.iterations:
        path = save(start, last)
    return path


def train_delta_mapper_in_models(
    settings: DeltaSettings,
    images_dir: str | Path,
    out_dir: str | Path,
    *,
    models_dir: str | None,
    sources: dict | None = None,
    device: str | None = None,
    resume: bool = False,
    log=print,
) -> Path:
    """``train_delta_mapper`` on the U-Net and CLIP of a models folder (the ones the engine loads), in float32 on the
    caller's device. The mapper records the U-Net's id, so the engine uses it only with that U-Net."""
    src, unet, scheduler, base_model, device = training_unet(models_dir, sources, device)
    return train_delta_mapper(
        settings,
        images_dir,
        out_dir,
        unet=unet,
        scheduler=scheduler,
        base_model=base_model,
        clip_name=src.clip,
        clip_pretrained=src.clip_pretrained,
        device=device,
        resume=resume,
        log=log,
    )
