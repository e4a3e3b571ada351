"""The ChatFace diffusion engine: DDIM inversion of the aligned face, h-space edits, paste-back.

``invert`` finds the face (the largest, or ``face_index``), aligns it FFHQ-style
to the U-Net's resolution and inverts it with deterministic DDIM to x_T. The
session stores x_T once (half precision when that round-trips within 2e-3,
else float32) and every edit reuses it. ``decode`` runs one reverse DDIM pass
from x_T with the h-space networks adding every attribute of the cumulative state
at its own steps (t >= T_edit), then pastes the edited square back into the
full photo through a feathered mask. Device and precision are the caller's.

Every attribute network (Asyrp's or ChatFace's) runs in Asyrp's generative
process: at each step where some attribute is active (t >= its T_edit) the
encoder runs once, the decoder runs on the original h and on h + delta_h in one
batch (sharing the skip connections' part of its resnets: 1.52 U-Net
evaluations in all for the CelebA-HQ model), and the step takes x0 from the
edited noise and the direction from the original noise. The other steps are
plain DDIM with one U-Net evaluation.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ....errors import WHY_NO_NETWORK, WHY_NOT_AVAILABLE, Why, why_code
from ...base import ChatfaceModelError, EditSpec, EditState, Generator, Latent, UnsupportedAttributeError, style_digest
from ...faces.alignment import Alignment, align_face, blend_mask, paste_back
from ...faces.detection import face_meta, find_face
from . import ddim, injection, unet_split
from .delta_mapper import TextDirections
from .hspace import ActiveEdit, MappingRegistry, hspace_shift
from .tensors import to_image, to_tensor

HALF_TOLERANCE = 2e-3
NO_NETWORK = "no h-space network for this attribute and U-Net (chatface models fetch asyrp, or train one with chatface train-direction)"


def pack_noise(x_t: torch.Tensor) -> np.ndarray:
    """x_T as float16 when that is lossless enough, else float32."""
    x = x_t.detach().to(torch.float32).cpu().numpy()
    half = x.astype(np.float16)
    return half if float(np.abs(half.astype(np.float32) - x).max()) <= HALF_TOLERANCE else x


class DiffusionGenerator(Generator):
    name = "diffusion"
    takes_style = True  # a style from a reference photo, by h-space content injection (injection.py)
    REFERENCE_CACHE = 8  # the inverted reference photos kept (each is one inversion: steps U-Net passes)

    def __init__(
        self,
        unet,
        scheduler,
        mappings: MappingRegistry,
        *,
        steps: int = 20,
        device="cpu",
        dtype=torch.float32,
        face_index: int = 0,
        model_id: str = "",
        feather: float = 0.12,
        progress: Callable[[str, int, int], None] | None = None,
        text_directions: TextDirections | None = None,
    ):
        unet_split.check_supported(unet)
        ddim.check_scheduler(scheduler)
        if unet.dtype != dtype:  # diffusers warns on casting; callers loading with torch_dtype never need it
            unet = unet.to(dtype=dtype)
        self.unet = unet.to(device).eval().requires_grad_(False)
        self.scheduler = scheduler
        self.mappings = mappings
        # DeltaEdit's mapper, for the attributes that have no network of their own (delta_mapper.py); None: none
        self.text_directions = text_directions
        self.delta_problem: str | None = None  # why a DeltaEdit mapper in the models folder is not used (another U-Net...)
        self.steps = steps
        self.device, self.dtype = device, dtype
        self.face_index = face_index
        self.model_id = model_id
        self.feather = feather
        self.progress = progress  # (stage, step, total) -> None
        self.size = int(unet.config.sample_size)
        # the latest decode: the timesteps that got an h-space shift, and the encoder / decoder passes it ran
        self.last_applied_steps: list[int] = []
        self.last_passes = {"encoder": 0, "decoder": 0}
        self._references: dict[tuple[str, int], torch.Tensor] = {}  # (stored photo's sha256, steps) -> the reference's x_T

    # -- what it can do ---------------------------------------------------
    def supported_attributes(self) -> dict[str, tuple[bool, bool]]:
        """Attributes with a network for this U-Net (a ``both`` network serves both signs, a pair one each), and
        with a DeltaEdit mapper every attribute it has texts for, in both directions."""
        mapped = {a: (True, True) for a in self.text_directions.attributes()} if self.text_directions is not None else {}
        return {**mapped, **{a: self.mappings.directions(a) for a in self.mappings.available()}}

    def by_mapper(self, attribute: str) -> bool:
        """Whether ``attribute`` is edited by the DeltaEdit mapper (it has no network of its own)."""
        return self.text_directions is not None and attribute not in self.mappings.infos and attribute in self.text_directions.texts

    def edited_by(self, attribute: str) -> str | None:
        return "the DeltaEdit mapper, from its texts (no h-space network of its own)" if self.by_mapper(attribute) else None

    def _active(self, attribute: str, strength: float, t_edit: int) -> ActiveEdit:
        """The h-space term of one attribute: its own network, else the DeltaEdit mapper on its texts."""
        if self.by_mapper(attribute):
            assert self.text_directions is not None
            return self.text_directions.active(attribute, strength, t_edit)
        return self.mappings.active(attribute, strength, t_edit)

    def _network_t_edit(self, attribute: str) -> int | None:
        """The T_edit the attribute's network was trained with (500 for Asyrp's), if its file records one."""
        for info in self.mappings.infos.get(attribute, {}).values():
            t = info.meta.get("training", {}).get("t_edit")
            if t is not None:
                return int(t)
        return None

    def check_supported(self, edits) -> None:
        try:
            super().check_supported(edits)
        except UnsupportedAttributeError as exc:
            raise UnsupportedAttributeError(
                {a: Why(NO_NETWORK, WHY_NO_NETWORK) if why_code(why) == WHY_NOT_AVAILABLE else why for a, why in exc.unsupported.items()}
            ) from None

    # -- the U-Net as a noise model -----------------------------------------
    def _plain_noise(self, x: torch.Tensor, t: int) -> torch.Tensor:
        return self.unet(x, t).sample

    def _edit_noise(self, edits: list[ActiveEdit]):
        """Asyrp's noise model for one photo: (edited noise, original noise) at steps with an active edit, else the plain noise."""
        return self._batch_noise([edits])

    def _batch_noise(self, edits_per_photo: list[list[ActiveEdit]]):
        """Asyrp's noise model over a batch of photos, each with its own edits: one U-Net pass per step for all of them.

        At a step where no photo has an active edit, the plain noise; otherwise the pair (edited, original),
        where a photo without an active edit gets a zero shift (so its two noises are the same, a plain step).
        """
        applied, passes = self.last_applied_steps, self.last_passes

        def eps(x: torch.Tensor, t: int):
            enc = unet_split.encode(self.unet, x, t)
            passes["encoder"] += 1
            shifts = [hspace_shift(edits, enc.h[i : i + 1], t, enc.emb[i : i + 1]) for i, edits in enumerate(edits_per_photo)]
            if all(d is None for d in shifts):
                passes["decoder"] += 1
                return unet_split.decode(self.unet, enc)
            applied.append(int(t))
            passes["decoder"] += 2
            only = shifts[0] if len(shifts) == 1 else None  # one photo, with an active edit (not all shifts are None)
            delta = (
                only
                if only is not None
                else torch.cat([d if d is not None else torch.zeros_like(enc.h[i : i + 1]) for i, d in enumerate(shifts)])
            )
            eps_orig, eps_edit = unet_split.decode_pair(self.unet, enc, enc.h + delta)
            return eps_edit, eps_orig

        return eps

    def _tick(self, stage: str, total: int):
        if self.progress is None:
            return None
        return lambda i: self.progress(stage, i + 1, total)

    # -- inversion ------------------------------------------------------------
    def invert(self, image: np.ndarray, face_index: int | None = None) -> Latent:
        face = find_face(image, self.face_index if face_index is None else face_index)
        crop, al = align_face(image, face.landmarks, self.size)
        x_t = ddim.invert(
            self._plain_noise, self.scheduler, to_tensor(crop, self.device, self.dtype), self.steps, self._tick("invert", self.steps)
        )
        h, w = image.shape[:2]
        return Latent(
            engine=self.name,
            arrays={"x_T": pack_noise(x_t), "landmarks": face.landmarks.astype(np.float32)},
            meta={
                **al.as_meta(),
                "box": list(face.box),
                **face_meta(face),
                "image_size": [w, h],
                "steps": self.steps,
                "model_id": self.model_id,
            },
        )

    # -- decoding ---------------------------------------------------------------
    def render_aligned(self, latent: Latent, edits: dict[str, EditSpec]) -> np.ndarray:
        """The aligned face square after one reverse pass from x_T with all ``edits``."""
        return self.render_aligned_many([latent], [edits])[0]

    def render_aligned_many(self, latents: list[Latent], edits: list[dict[str, EditSpec]]) -> list[np.ndarray]:
        """Several photos' aligned squares in one batched reverse pass (same steps), each with its own edits."""
        steps = {int(lat.meta.get("steps", self.steps)) for lat in latents}
        if len(steps) != 1:
            raise ValueError(f"one batched pass needs latents of the same number of steps, got {sorted(steps)}")
        x_t = torch.cat([torch.from_numpy(lat.arrays["x_T"].astype(np.float32)) for lat in latents]).to(
            device=self.device, dtype=self.dtype
        )
        active = [[self._active(a, float(s.strength), int(s.t_edit)) for a, s in sorted(e.items()) if s.strength != 0] for e in edits]
        self.last_applied_steps, self.last_passes = [], {"encoder": 0, "decoder": 0}
        (n,) = steps
        with torch.no_grad():
            x0 = ddim.sample(self._batch_noise(active), self.scheduler, x_t, n, self._tick("decode", n))
        return [to_image(x0[i : i + 1]) for i in range(len(latents))]

    # -- a style from a reference photo ----------------------------------------------
    def default_t_edit(self, attribute: str) -> int | None:
        """A style's injection step (injection.STYLE_T_EDIT); for an attribute, the one its network was trained with."""
        if style_digest(attribute) is not None:
            return injection.STYLE_T_EDIT
        return self._network_t_edit(attribute)

    def _reference_noise(self, digest: str, pixels: np.ndarray, steps: int) -> torch.Tensor:
        """The reference photo's x_T: its largest face, aligned and inverted like the user's (cached by the stored
        photo's key ``digest``, which names its pixels; deterministic)."""
        key = (digest, steps)
        if key not in self._references:
            face = find_face(pixels, 0)
            crop, _ = align_face(pixels, face.landmarks, self.size)
            x_t = ddim.invert(
                self._plain_noise, self.scheduler, to_tensor(crop, self.device, self.dtype), steps, self._tick("invert", steps)
            )
            while len(self._references) >= self.REFERENCE_CACHE:
                self._references.pop(next(iter(self._references)))
            self._references[key] = x_t
        return self._references[key]

    def render_styled(self, latent: Latent, edits: dict[str, EditSpec]) -> np.ndarray:
        """The aligned face square in the style of the reference of ``edits``' one style key, with the state's other
        attributes edited in the user's process (injection.py)."""
        styles = [k for k in edits if style_digest(k) is not None]
        if len(styles) != 1:
            raise UnsupportedAttributeError(
                {k: Why("one style at a time: a new reference's style replaces the old", WHY_NOT_AVAILABLE) for k in styles[1:]}
            )
        spec = edits[styles[0]]
        assert spec.reference is not None  # check_supported refused a style without its reference
        steps = int(latent.meta.get("steps", self.steps))
        x_ref = self._reference_noise(str(style_digest(styles[0])), spec.reference, steps)
        x_user = torch.from_numpy(latent.arrays["x_T"].astype(np.float32)).to(device=self.device, dtype=self.dtype)
        others = [self._active(a, float(s.strength), int(s.t_edit)) for a, s in sorted(edits.items()) if a != styles[0]]
        self.last_passes = {"encoder": 0, "decoder": 0}
        x0 = injection.content_injection(
            self.unet,
            self.scheduler,
            x_ref,
            x_user,
            injection.content_weight(float(spec.strength)),
            int(spec.t_edit),
            steps,
            content_edits=others,
            on_step=self._tick("decode", steps),
            passes=self.last_passes,
        )
        return to_image(x0)

    def decode(self, image: np.ndarray, latent: Latent, edits: EditState) -> np.ndarray:
        (out,) = self.decode_batch([(image, latent, edits)])  # a batch of one: the same code path as a batched replica
        if isinstance(out, Exception):
            raise out
        return out

    batches = True  # decode_batch shares one U-Net pass per step between photos

    def decode_batch(self, requests: list[tuple[np.ndarray, Latent, EditState]]) -> list[np.ndarray | ChatfaceModelError]:
        """Several decodes (different photos, same U-Net) in one batched pass per group of equal steps."""
        out: dict[int, np.ndarray | ChatfaceModelError] = {}  # request index -> its render or its own error
        groups: dict[int, list[int]] = {}
        actives: dict[int, dict[str, EditSpec]] = {}
        for i, (image, latent, edits) in enumerate(requests):
            try:
                actives[i] = self.active_edits(image, latent, edits)
            except ChatfaceModelError as exc:
                out[i] = exc
                continue
            if not actives[i]:
                out[i] = image.copy()
            elif any(style_digest(k) is not None for k in actives[i]):  # a style runs its own pair (reference, user)
                try:
                    crop = self.render_styled(latent, actives[i])
                except ChatfaceModelError as exc:
                    out[i] = exc
                    continue
                out[i], _ = paste_back(image, crop, Alignment.from_meta(latent.meta), self.feather)
            else:
                groups.setdefault(int(latent.meta.get("steps", self.steps)), []).append(i)
        for members in groups.values():
            crops = self.render_aligned_many([requests[i][1] for i in members], [actives[i] for i in members])
            for i, crop in zip(members, crops):
                out[i], _ = paste_back(requests[i][0], crop, Alignment.from_meta(requests[i][1].meta), self.feather)
        return [out[i] for i in range(len(requests))]

    def edit_region(self, image: np.ndarray, latent: Latent) -> np.ndarray:
        return blend_mask(image.shape, Alignment.from_meta(latent.meta), self.feather) > 0
