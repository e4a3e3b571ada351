"""The LEDITS++ engine: open-vocabulary edits of the face with no trained direction (diffusers' LEditsPPPipelineStableDiffusion).

``invert`` finds the face (the largest, or ``face_index``), aligns it
FFHQ-style to the pipeline's resolution and inverts it once with LEDITS++'s
edit-friendly DDPM inversion. The session stores the inversion (the initial
latent and every step's noise map, float16) and every render restores it into
the pipeline, so nothing drifts and nothing is recomputed.

``decode`` turns the cumulative state into edit concepts in one pass:

- attribute -> its editing prompt (the vocabulary's positive text; a negative
  strength uses the negative text when the attribute has one, else the positive
  text with the editing direction reversed);
- strength -> edit guidance scale = ``guidance_per_strength`` x |strength| (10 by default, so the
  vocabulary's 0.3 / 0.6 / 0.9 give 3 / 6 / 9, around LEDITS++'s own default of 5);
- T_edit -> warm-up steps = round(steps x T_edit / 1000): as in ChatFace, a lower T_edit edits more
  of the process (global attributes such as age), a higher one only its last, detailed steps.

A mask from the face landmarks (hair, hats and earrings: the region around and above the head) is the
pipeline's user mask, and the result is blended into the aligned face through the same mask before it
is pasted back into the full photo: pixels outside the mask, the background and other people, never
change. One pipeline per process: the pipeline keeps the inversion on itself, so renders of different
sessions take turns (a lock) and each one sets its own session's inversion first.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from ...errors import WHY_NO_PROMPT, WHY_NOT_AVAILABLE, Why, why_code
from ..base import EditSpec, EditState, Generator, Latent, UnsupportedAttributeError, concept_text
from ..faces.alignment import Alignment, align_face, crop_aligned, paste_back
from ..faces.detection import face_meta, find_face

DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
# the groups whose edits live around and above the head, not on the face
HAIR_GROUPS = frozenset({"bald", "bangs", "long_hair", "curly_hair", "hair_color", "hat", "earrings"})


def region_mask(size: int, landmarks: np.ndarray, hair: bool) -> np.ndarray:
    """A soft mask (size x size, float32 in [0, 1]) of the face in the aligned square, or of the head and hair."""
    lm = np.asarray(landmarks, np.float64)
    top, bottom = lm[:, 1].min(), lm[:, 1].max()
    left, right = lm[:, 0].min(), lm[:, 0].max()
    height, width = bottom - top, right - left
    # the forehead above the brows; for hair, hats and earrings the whole head with room around it
    up = 0.35 * height if not hair else 0.9 * height
    side = 0.05 * width if not hair else 0.3 * width
    pts = np.concatenate([lm[:17], [[right + side, top - up], [left - side, top - up]]])
    if hair:
        pts = np.concatenate([pts, [[left - side, bottom], [right + side, bottom]]])
    mask = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.float32)).astype(np.int32), 1.0)
    sigma = max(1.0, 0.03 * size)
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigma), 0.0, 1.0)


class LeditsGenerator(Generator):
    name = "ledits"
    accepts_text = True  # "text:a pirate hat" is edited with the prompt "a pirate hat"

    def __init__(
        self,
        pipe,
        concepts: dict[str, dict],
        *,
        steps: int = 50,
        skip: float = 0.15,
        device="cpu",
        dtype=None,
        face_index: int = 0,
        model_id: str = "",
        feather: float = 0.12,
        seed: int = 0,
        guidance_per_strength: float = 10.0,
        edit_threshold: float = 0.9,
    ):
        # the defining module: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
        from diffusers.pipelines.ledits_pp.pipeline_leditspp_stable_diffusion import LEditsPPPipelineStableDiffusion

        if not isinstance(pipe, LEditsPPPipelineStableDiffusion):
            raise TypeError(f"the ledits engine needs a LEditsPPPipelineStableDiffusion, not {type(pipe).__name__}")
        if not 0 <= skip < 1:
            raise ValueError(f"skip must be in [0, 1), got {skip}")
        self.pipe = pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.concepts = concepts  # attribute -> {"positive", "negative", "group"}
        self.steps, self.skip = steps, skip
        self.device, self.dtype = device, dtype
        self.face_index = face_index
        self.model_id = model_id
        self.feather = feather
        self.seed = seed
        self.guidance_per_strength = guidance_per_strength
        self.edit_threshold = edit_threshold
        self.size = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
        self._lock = threading.Lock()
        self.inversions = 0  # how many times this process inverted a photo (each session's inversion is stored and reused)
        self.last_unet_calls = 0  # U-Net calls of the latest render

    # -- what it can do ---------------------------------------------------------
    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        """Every attribute with an editing prompt, both ways (a concept can be added or reversed)."""
        return {a: (True, True) for a, c in self.concepts.items() if c.get("positive")}

    def concept(self, attribute: str, strength: float) -> tuple[str, bool]:
        """(editing prompt, reverse direction) of ``attribute`` (an id, or a free-text key) at ``strength``."""
        text = concept_text(attribute)
        if text is not None:
            return text, strength < 0
        c = self.concepts[attribute]
        if strength < 0 and c.get("negative"):
            return c["negative"], False
        return c["positive"], strength < 0

    def warmup_steps(self, t_edit: int, steps: int) -> int:
        return int(round(steps * min(max(t_edit, 0), 1000) / 1000))

    # -- inversion ----------------------------------------------------------------
    def _generator(self):
        import torch

        return torch.Generator(device="cpu").manual_seed(self.seed)

    def invert(self, image: np.ndarray, face_index: int | None = None) -> Latent:
        from PIL import Image

        face = find_face(image, self.face_index if face_index is None else face_index)
        crop, al = align_face(image, face.landmarks, self.size)
        crop_landmarks = cv2.transform(face.landmarks.reshape(-1, 1, 2).astype(np.float64), al.matrix).reshape(-1, 2)
        with self._lock:
            self.pipe.invert(
                image=Image.fromarray(crop),
                num_inversion_steps=self.steps,
                skip=self.skip,
                generator=self._generator(),
                height=self.size,
                width=self.size,
            )
            self.inversions += 1
            arrays = {
                "init_latents": self.pipe.init_latents.detach().float().cpu().numpy().astype(np.float16),
                "zs": self.pipe.zs.detach().float().cpu().numpy().astype(np.float16),
                # diffusers types inversion_steps by its initial None; invert has just set it to a tensor
                "timesteps": self.pipe.inversion_steps.detach().cpu().numpy().astype(np.int64),
            }
            total = int(len(self.pipe.scheduler.timesteps))
        h, w = image.shape[:2]
        return Latent(
            engine=self.name,
            arrays={**arrays, "landmarks": face.landmarks.astype(np.float32), "crop_landmarks": crop_landmarks.astype(np.float32)},
            meta={
                **al.as_meta(),
                "box": list(face.box),
                **face_meta(face),
                "image_size": [w, h],
                "steps": self.steps,
                "skip": self.skip,
                "scheduler_steps": total,
                "model_id": self.model_id,
                "seed": self.seed,
            },
        )

    def _restore(self, latent: Latent) -> None:
        """Put this session's stored inversion into the pipeline (which keeps it on itself)."""
        import torch

        pipe = self.pipe
        dtype = pipe.unet.dtype
        pipe.scheduler.config.timestep_spacing = "leading"  # as LEDITS++'s invert sets it
        pipe.scheduler.set_timesteps(int(latent.meta["scheduler_steps"]))
        # diffusers types inversion_steps by its initial None; it holds the inversion's timesteps as a tensor
        pipe.inversion_steps = torch.from_numpy(latent.arrays["timesteps"]).to(pipe.device)
        pipe.init_latents = torch.from_numpy(latent.arrays["init_latents"].astype(np.float32)).to(pipe.device, dtype)
        pipe.zs = torch.from_numpy(latent.arrays["zs"].astype(np.float32)).to(pipe.device, dtype)
        pipe.batch_size = int(pipe.init_latents.shape[0])
        pipe.eta = 1.0

    # -- decoding -------------------------------------------------------------------
    def mask(self, latent: Latent, attributes) -> np.ndarray:
        """The soft region (aligned square) that the edits of ``attributes`` may change: the face, the head, or both."""
        lm = latent.arrays["crop_landmarks"]
        size = int(latent.meta["size"])
        # free text may name anything on or around the head ("a pirate hat", "a scar"): the head region, which holds the face
        kinds = {concept_text(a) is not None or self.concepts[a].get("group") in HAIR_GROUPS for a in attributes}
        return np.maximum.reduce([region_mask(size, lm, hair) for hair in kinds]) if kinds else np.zeros((size, size), np.float32)

    @staticmethod
    def _in_photo(region: np.ndarray, al: Alignment, shape) -> np.ndarray:
        """The pixels of a photo of ``shape`` that the aligned-square ``region`` covers."""
        h, w = shape[:2]
        back = cv2.warpAffine(
            region, cv2.invertAffineTransform(al.matrix), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return back > 1e-3

    def render_aligned(self, latent: Latent, edits: dict[str, EditSpec]) -> tuple[np.ndarray, np.ndarray]:
        """The aligned face square after one LEDITS++ pass with every concept of ``edits``, and the region it may change."""
        import torch

        names = sorted(edits)
        steps = int(latent.meta["steps"])
        prompts, reverse, scales, warmups = [], [], [], []
        for a in names:
            prompt, rev = self.concept(a, edits[a].strength)
            prompts.append(prompt)
            reverse.append(rev)
            scales.append(self.guidance_per_strength * abs(float(edits[a].strength)))
            warmups.append(self.warmup_steps(int(edits[a].t_edit), steps))
        region = self.mask(latent, names)
        latent_size = int(self.pipe.unet.config.sample_size)
        user_mask = torch.from_numpy(cv2.resize(region, (latent_size, latent_size), interpolation=cv2.INTER_AREA))
        calls = [0]
        hook = self.pipe.unet.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
        try:
            with self._lock:
                self._restore(latent)
                out = self.pipe(
                    editing_prompt=prompts,
                    reverse_editing_direction=reverse,
                    edit_guidance_scale=scales,
                    edit_warmup_steps=warmups,
                    edit_threshold=self.edit_threshold,
                    user_mask=user_mask.to(self.pipe.unet.dtype),
                    generator=self._generator(),
                    output_type="np",
                    return_dict=True,
                )
        finally:
            hook.remove()
        self.last_unet_calls = calls[0]
        edited = np.clip(np.rint(out.images[0] * 255), 0, 255).astype(np.uint8)
        return edited, region

    def decode(self, image: np.ndarray, latent: Latent, edits: EditState) -> np.ndarray:
        active = self.active_edits(image, latent, edits)
        if not active:
            return image.copy()
        al = Alignment.from_meta(latent.meta)
        edited, region = self.render_aligned(latent, active)
        original = crop_aligned(image, al)
        if edited.shape[:2] != original.shape[:2]:
            edited = cv2.resize(edited, original.shape[1::-1], interpolation=cv2.INTER_CUBIC)
        m = region[..., None]
        crop = np.clip(np.rint(original * (1 - m) + edited * m), 0, 255).astype(np.uint8)
        out, _ = paste_back(image, crop, al, self.feather)
        # outside the region the photo is the photo, bit for bit (the warp there and back is not exact)
        keep = ~self._in_photo(region, al, image.shape)
        out[keep] = image[keep]
        return out

    def edit_region(self, image: np.ndarray, latent: Latent, attributes=None) -> np.ndarray:
        """The pixels of the photo an edit may change (for ``attributes``, or any attribute's region when None)."""
        names = list(attributes) if attributes is not None else [a for a in self.concepts if self.concepts[a].get("positive")]
        return self._in_photo(self.mask(latent, names), Alignment.from_meta(latent.meta), image.shape)

    def check_supported(self, edits) -> None:
        try:
            super().check_supported(edits)
        except UnsupportedAttributeError as exc:
            raise UnsupportedAttributeError(
                {
                    a: Why("no editing prompt for this attribute", WHY_NO_PROMPT) if why_code(why) == WHY_NOT_AVAILABLE else why
                    for a, why in exc.unsupported.items()
                }
            ) from None


def load_ledits_engine(
    models_dir: str | None = None,
    *,
    concepts: dict[str, dict],
    face_index: int = 0,
    device: str | None = None,
    dtype: str | None = None,
    steps: int | None = None,
    pipeline: str | None = None,
    clip: str | None = None,
    clip_pretrained: str | None = None,
    arcface: str | None = None,
    seed: int = 0,
    **_ignored,
):
    """The LEDITS++ engine with ArcFace identity and CLIP direction scorers.

    The pipeline comes from ``pipeline``, else ``MODELS/sd`` (``chatface models make-tiny DIR --engine ledits``
    writes a tiny random one), else the hub id stable-diffusion-v1-5; the scorers as for the diffusion engine.
    """
    from pathlib import Path

    # the defining module: diffusers' top-level __init__ shows type checkers only its dummy placeholder classes
    from diffusers.pipelines.ledits_pp.pipeline_leditspp_stable_diffusion import LEditsPPPipelineStableDiffusion

    from ..base import EngineParts
    from ..scorers.arcface import ArcFaceIdentityScorer
    from ..scorers.clip_direction import CLIPDirectionScorer
    from ..weights.sources import resolve_sources
    from .placement import torch_placement

    src = resolve_sources(models_dir, clip=clip, clip_pretrained=clip_pretrained, arcface=arcface)
    root = Path(models_dir).expanduser() if models_dir else None
    source = pipeline or (str(root / "sd") if root is not None and (root / "sd").is_dir() else DEFAULT_MODEL)
    device, torch_dtype = torch_placement(device, dtype)
    pipe = LEditsPPPipelineStableDiffusion.from_pretrained(
        source, torch_dtype=torch_dtype, safety_checker=None, requires_safety_checker=False
    )
    steps = steps or 50
    generator = LeditsGenerator(
        pipe, concepts, steps=steps, device=device, dtype=torch_dtype, face_index=face_index, model_id=source, seed=seed
    )
    return EngineParts(
        generator,
        ArcFaceIdentityScorer(src.arcface),
        CLIPDirectionScorer(src.clip, src.clip_pretrained, device=device),
        model_id=f"ledits:{source}@{steps}steps",
    )
