"""Direction with CLIP: how far an edit moved the photo along the attribute's text direction.

ChatFace's directional CLIP similarity: the cosine between the change of the
image embedding (edited - source) and the change of the text embedding
(target text - neutral text). Both images are cut to the face square first
when the inversion's alignment is known. The model comes from open_clip: a
model name with a pretrained tag (downloaded by open_clip on the user's
machine, e.g. ViT-B-32 / openai), or ``local-dir:/path`` for a saved model.
"""

from __future__ import annotations

import numpy as np

from ..base import DirectionScorer, Latent


class CLIPDirectionScorer(DirectionScorer):
    name = "clip"

    def __init__(self, model_name: str = "ViT-B-32", pretrained: str | None = "openai", *, device="cpu"):
        import open_clip

        self.device = device
        if model_name.startswith("local-dir:"):
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, device=device)
        else:
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=pretrained, device=device)
        self.model = model.eval().requires_grad_(False)
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(model_name)
        self._text_cache: dict[str, np.ndarray] = {}

    def text_embedding(self, text: str) -> np.ndarray:
        """The unit CLIP embedding of ``text`` (cached): what the direction scores and a DeltaEdit mapper's texts read."""
        import torch

        if text not in self._text_cache:
            with torch.no_grad():
                e = self.model.encode_text(self.tokenizer([text]).to(self.device)).float()[0]
            self._text_cache[text] = (e / e.norm()).cpu().numpy()
        return self._text_cache[text]

    def image_embedding(self, image: np.ndarray) -> np.ndarray:
        import torch
        from PIL import Image

        with torch.no_grad():
            x = self.preprocess(Image.fromarray(image)).unsqueeze(0).to(self.device)
            e = self.model.encode_image(x).float()[0]
        return (e / e.norm()).cpu().numpy()

    def direction(self, image_a, image_b, text_a, text_b, attribute=None, strength_sign=1.0, face_hint: Latent | None = None) -> float:
        if face_hint is not None and "quad" in face_hint.meta:
            from ..faces.alignment import Alignment, crop_aligned

            al = Alignment.from_meta(face_hint.meta)
            image_a = crop_aligned(image_a, al)
            image_b = crop_aligned(image_b, al)
        d_img = self.image_embedding(image_b) - self.image_embedding(image_a)
        d_txt = self.text_embedding(text_b) - self.text_embedding(text_a)
        n = np.linalg.norm(d_img) * np.linalg.norm(d_txt)
        return float(np.dot(d_img, d_txt) / n) if n > 0 else 0.0

    def towards(self, image_a, image_b, reference) -> float | None:
        """The cosine between CLIP's image change a -> b and its change a -> reference: how much of the way to the
        reference's look the edit went (a style's check)."""
        e_a = self.image_embedding(image_a)
        d_img = self.image_embedding(image_b) - e_a
        d_ref = self.image_embedding(reference) - e_a
        n = np.linalg.norm(d_img) * np.linalg.norm(d_ref)
        return float(np.dot(d_img, d_ref) / n) if n > 0 else 0.0
