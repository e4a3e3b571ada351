"""Face detection, 68 landmarks and the 128-d identity embedding, with dlib.

The models ship inside the ``face-recognition-models`` package, so this works
offline. Detection runs on a downscaled copy of large photos (the landmarks are
then fitted at full resolution), so a 12-megapixel photo costs about as much
as a small one.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ...errors import NoFaceError

DETECT_MAX_SIDE = 800
MIN_FACE_SIZE = 48  # pixels, at full resolution


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom (full resolution)
    landmarks: np.ndarray  # (68, 2) float64, x/y
    faces: tuple[tuple[int, int, int, int], ...] = ()  # find_face: the boxes of every face in the photo, largest first
    index: int = 0  # find_face: this face's place among them

    @property
    def size(self) -> int:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])

    @property
    def interocular(self) -> float:
        return float(np.linalg.norm(self.landmarks[36:42].mean(0) - self.landmarks[42:48].mean(0)))


class _DlibModels:
    """The three dlib models, loaded once per process (dlib objects are not re-entrant, hence the lock)."""

    def __init__(self) -> None:
        import dlib

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources deprecation inside face_recognition_models
            import face_recognition_models as frm

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(frm.pose_predictor_model_location())
        self.encoder = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
        self.lock = threading.Lock()


@lru_cache(maxsize=1)
def dlib_models() -> _DlibModels:
    return _DlibModels()


def _rect(box):
    return dlib_models().dlib.rectangle(int(box[0]), int(box[1]), int(box[2]), int(box[3]))


def landmarks_in_box(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    m = dlib_models()
    with m.lock:
        shape = m.predictor(np.ascontiguousarray(image), _rect(box))
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def detect_faces(image: np.ndarray) -> list[Face]:
    """All faces, largest first."""
    import cv2

    m = dlib_models()
    h, w = image.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = image if scale == 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    with m.lock:
        rects = m.detector(np.ascontiguousarray(small), 1)
    faces = []
    for r in rects:
        box = (
            max(0, int(r.left() / scale)),
            max(0, int(r.top() / scale)),
            min(w - 1, int(r.right() / scale)),
            min(h - 1, int(r.bottom() / scale)),
        )
        faces.append(Face(box=box, landmarks=landmarks_in_box(image, box)))
    faces.sort(key=lambda f: -f.size)
    return faces


def face_meta(face: Face) -> dict:
    """What an inversion records of the photo's faces: every face's box (largest first) and which one it edits."""
    return {"faces": [list(b) for b in face.faces], "face_index": face.index}


def find_face(image: np.ndarray, index: int = 0) -> Face:
    """The face to edit: the largest by default, or ``index`` in size order."""
    faces = detect_faces(image)
    if not faces:
        raise NoFaceError("no face found in the photo (a clear, frontal face is needed)")
    if index >= len(faces):
        raise NoFaceError(f"face {index} requested, but the photo has {len(faces)} face(s)")
    face = faces[index]
    if face.size < MIN_FACE_SIZE:
        raise NoFaceError(f"the face is too small to edit ({face.size}px; at least {MIN_FACE_SIZE}px is needed)")
    return replace(face, faces=tuple(f.box for f in faces), index=index)


def face_embedding(image: np.ndarray, landmarks_box: tuple[int, int, int, int]) -> np.ndarray:
    """dlib's 128-d identity embedding of the face in ``box`` (landmarks refitted on this image)."""
    m = dlib_models()
    img = np.ascontiguousarray(image)
    with m.lock:
        shape = m.predictor(img, _rect(landmarks_box))
        desc = m.encoder.compute_face_descriptor(img, shape)
    return np.array(desc, dtype=np.float64)
