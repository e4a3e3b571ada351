"""Identity with ArcFace: the scorer the diffusion engine uses.

The recognition network is an ONNX file run with onnxruntime: by default the
``buffalo_l`` pack's ``w600k_r50.onnx`` in ~/.insightface/models (where
``chatface models fetch`` or insightface itself puts it), or any ArcFace ONNX
path. It is run as insightface's ``ArcFaceONNX`` runs it (the same five-point
alignment, ``models.faces.alignment.arcface_crop``; BGR in, the pixel mean and
scale read from the graph as insightface reads them), without importing
insightface: that package requires the GUI build of OpenCV, which would sit
beside the headless one chatface uses (two OpenCVs in one environment). The
test suite checks that the embeddings equal insightface's where it is
installed. The score is the cosine of the two embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ChatfaceError
from ..base import IdentityScore, IdentityScorer, Latent
from ..faces.alignment import arcface_crop, arcface_keypoints
from ..faces.detection import find_face

DEFAULT_ARCFACE = Path("~/.insightface/models/buffalo_l/w600k_r50.onnx")
DEFAULT_SAME_PERSON = 0.35  # cosine; ArcFace verification thresholds are usually 0.28-0.4


class ArcFaceUnavailableError(ChatfaceError):
    pass


def resolve_arcface_path(path: str | os.PathLike | None) -> Path:
    p = Path(path).expanduser() if path else DEFAULT_ARCFACE.expanduser()
    if not p.is_file():
        hint = (
            (
                "fetch it once on a machine with network (chatface models fetch asyrp DIR puts the buffalo_l pack's "
                "network there) or set CHATFACE_ARCFACE to an ArcFace .onnx file"
            )
            if not path
            else "check the path"
        )
        raise ArcFaceUnavailableError(f"ArcFace model not found at {p}: {hint}")
    return p


def pixel_normalisation(onnx_path: Path) -> tuple[float, float]:
    """(mean, std) of the pixels a recognition network expects: (0, 1) when its first nodes subtract and scale
    themselves (the networks converted from MXNet), else (127.5, 127.5): insightface's rule, read off the graph."""
    import onnx

    nodes = onnx.load(str(onnx_path), load_external_data=False).graph.node[:8]
    sub = any(n.name.startswith(("Sub", "_minus")) for n in nodes)
    mul = any(n.name.startswith(("Mul", "_mul")) for n in nodes)
    return (0.0, 1.0) if sub and mul else (127.5, 127.5)


class ArcFaceIdentityScorer(IdentityScorer):
    name = "arcface"

    def __init__(self, onnx_path: str | os.PathLike | None = None, *, same_person_cosine: float = DEFAULT_SAME_PERSON):
        import onnxruntime

        self.path = resolve_arcface_path(onnx_path)
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - not an ONNX file, or a broken one: one line
            raise ArcFaceUnavailableError(f"{self.path} is not an ONNX network onnxruntime can run ({type(exc).__name__})") from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        shape = inputs[0].shape
        if (
            len(inputs) != 1
            or len(outputs) != 1
            or len(shape) != 4
            or shape[1] != 3
            or shape[2] != shape[3]
            or not isinstance(shape[2], int)
            or shape[2] < 112
            or shape[2] % 16
        ):
            raise ArcFaceUnavailableError(
                f"{self.path} is not an ArcFace recognition model (it takes {shape}, not one square RGB face of 112 pixels or more)"
            )
        self.input_name, self.output_name = inputs[0].name, outputs[0].name
        self.input_size = int(shape[2])
        self.mean, self.std = pixel_normalisation(self.path)
        self.threshold = same_person_cosine

    @property
    def criterion(self) -> str:
        return f"ArcFace cosine >= {self.threshold} (distance = 1 - cosine < {1 - self.threshold:.2f})"

    def embedding(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The unit-length embedding of the face at ``landmarks`` (68 points) in the RGB ``image``."""
        aligned = arcface_crop(np.ascontiguousarray(image), arcface_keypoints(landmarks), self.input_size)  # RGB, as the network reads it
        blob = ((aligned.astype(np.float32) - self.mean) / self.std).transpose(2, 0, 1)[None]
        feat = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(blob)})[0].ravel().astype(np.float64)
        return feat / (np.linalg.norm(feat) + 1e-12)

    def score(self, image_a: np.ndarray, image_b: np.ndarray, face_hint: Latent | None = None) -> IdentityScore:
        if face_hint is not None and "landmarks" in face_hint.arrays:
            lm_a = lm_b = face_hint.arrays["landmarks"].astype(np.float64)
        else:
            lm_a, lm_b = find_face(image_a).landmarks, find_face(image_b).landmarks
        cos = float(np.dot(self.embedding(image_a, lm_a), self.embedding(image_b, lm_b)))
        return IdentityScore(similarity=cos, distance=1.0 - cos, same_person=cos >= self.threshold)
