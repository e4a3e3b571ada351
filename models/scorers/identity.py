"""Identity scorers: does the edited photo still show the same person?

The offline default uses dlib's 128-d face embedding (same person when the L2
distance is below 0.6, dlib's own criterion); ArcFace (insightface's buffalo_l network on onnxruntime)
replaces it with the diffusion engine. The source photo's embedding is cached,
so a self-check attempt costs one embedding.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from ..base import IdentityScore, IdentityScorer, Latent
from ..faces.detection import face_embedding, find_face


def _digest(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).data).hexdigest() + str(image.shape)


ID_FACE = 400  # a face larger than this (box size, pixels) is shrunk to it before its embedding


def _around(image: np.ndarray, box: tuple[int, int, int, int], margin: float = 0.75):
    """The part of ``image`` around the face ``box`` (``margin`` of the face's size on every side), and the box in it.

    dlib's embedding reads a 150-pixel chip of the face, so a face larger than ID_FACE pixels is shrunk to it
    first (area averaging, what the chip's own sampling would do): a face of a 24-megapixel photo costs what a
    face of a 1-megapixel one costs.
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    size = max(x1 - x0, y1 - y0)
    m = int(margin * size)
    cx0, cy0 = max(0, x0 - m), max(0, y0 - m)
    cx1, cy1 = min(image.shape[1], x1 + m), min(image.shape[0], y1 + m)
    crop, inner = image[cy0:cy1, cx0:cx1], (x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0)
    if size <= ID_FACE:
        return crop, inner
    scale = ID_FACE / size
    w, h = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    crop = cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_AREA)
    return crop, tuple(int(round(v * scale)) for v in inner)


class DlibIdentityScorer(IdentityScorer):
    name = "dlib"
    same_person_distance = 0.6

    @property
    def criterion(self) -> str:
        return f"dlib face distance < {self.same_person_distance}"

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def embedding(self, image: np.ndarray, box=None) -> np.ndarray:
        if box is None:
            box = find_face(image).box
        crop, box = _around(image, tuple(box))  # the face and a margin: the same chip, whatever the photo's size
        key = _digest(crop) + str(box)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = face_embedding(crop, box)
        return self._cache[key]

    def score(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None = None) -> IdentityScore:
        box = tuple(face_hint.meta["box"]) if face_hint is not None and "box" in face_hint.meta else None
        if box is None:
            box = find_face(image_a).box
        ea = self.embedding(image_a, box)
        eb = self.embedding(image_b, box)
        dist = float(np.linalg.norm(ea - eb))
        cos = float(np.dot(ea, eb) / (np.linalg.norm(ea) * np.linalg.norm(eb) + 1e-12))
        return IdentityScore(similarity=cos, distance=dist, same_person=dist < self.same_person_distance)
