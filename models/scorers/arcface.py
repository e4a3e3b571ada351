"""Identity with ArcFace through insightface: the scorer the diffusion engine uses.

The recognition network is an ONNX file loaded by ``insightface.model_zoo.get_model``:
by default the ``buffalo_l`` pack's ``w600k_r50.onnx``, which insightface
downloads into ~/.insightface/models on the user's machine, or any ArcFace
ONNX path. Faces are aligned with insightface's own ``norm_crop`` from five
points of dlib's 68 landmarks; the score is the cosine of the two embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ChatfaceError
from ..base import IdentityScore, IdentityScorer, Latent
from ..faces.alignment import arcface_keypoints
from ..faces.detection import find_face

DEFAULT_ARCFACE = Path("~/.insightface/models/buffalo_l/w600k_r50.onnx")
DEFAULT_SAME_PERSON = 0.35  # cosine; ArcFace verification thresholds are usually 0.28-0.4


class ArcFaceUnavailableError(ChatfaceError):
    pass


def resolve_arcface_path(path: str | os.PathLike | None) -> Path:
    p = Path(path).expanduser() if path else DEFAULT_ARCFACE.expanduser()
    if not p.is_file():
        hint = ("download the buffalo_l pack once with insightface on a machine with network "
                "(python -c \"from insightface.app import FaceAnalysis; FaceAnalysis(name='buffalo_l')\") "
                "or set CHATFACE_ARCFACE to an ArcFace .onnx file") if not path else "check the path"
        raise ArcFaceUnavailableError(f"ArcFace model not found at {p}: {hint}")
    return p


class ArcFaceIdentityScorer(IdentityScorer):
    name = "arcface"
    def __init__(self, onnx_path: str | os.PathLike | None = None, *, same_person_cosine: float = DEFAULT_SAME_PERSON):
        import insightface

        self.path = resolve_arcface_path(onnx_path)
        model = insightface.model_zoo.get_model(str(self.path), providers=["CPUExecutionProvider"])
        if model is None or getattr(model, "taskname", "") != "recognition":
            raise ArcFaceUnavailableError(f"{self.path} is not an ArcFace recognition model (insightface did not route it as one)")
        self.model = model
        self.threshold = same_person_cosine

    @property
    def criterion(self) -> str:
        return f"ArcFace cosine >= {self.threshold} (distance = 1 - cosine < {1 - self.threshold:.2f})"

    def embedding(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        import warnings

        from insightface.utils import face_align

        size = self.model.input_size[0]
        bgr = np.ascontiguousarray(image[..., ::-1])
        with warnings.catch_warnings():  # insightface calls a scikit-image API that warns of its future removal
            warnings.simplefilter("ignore", FutureWarning)
            aligned = face_align.norm_crop(bgr, landmark=arcface_keypoints(landmarks), image_size=size)
        feat = self.model.get_feat(aligned).ravel().astype(np.float64)
        return feat / (np.linalg.norm(feat) + 1e-12)

    def score(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None = None) -> IdentityScore:
        if face_hint is not None and "landmarks" in face_hint.arrays:
            lm_a = lm_b = face_hint.arrays["landmarks"].astype(np.float64)
        else:
            lm_a, lm_b = find_face(image_a).landmarks, find_face(image_b).landmarks
        cos = float(np.dot(self.embedding(image_a, lm_a), self.embedding(image_b, lm_b)))
        return IdentityScore(similarity=cos, distance=1.0 - cos, same_person=cos >= self.threshold)
