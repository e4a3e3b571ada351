"""FFHQ-style face alignment from dlib's 68 landmarks, and paste-back into the full photo.

The diffusion model was trained on aligned faces at its own resolution
(CelebA-HQ/FFHQ alignment: eyes level, face centred, fixed scale). We cut
that square out of the photo with one affine map, edit it, and map it back
with the inverse, blended through a feathered mask. Pixels where the mask is
zero are copied from the original unchanged, so everything outside the face
region keeps its exact values.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Alignment:
    quad: np.ndarray  # (4, 2) corners in the photo: top-left, bottom-left, bottom-right, top-right
    size: int  # side of the aligned square
    matrix: np.ndarray  # (2, 3) photo -> aligned square

    def as_meta(self) -> dict:
        return {"quad": self.quad.round(3).tolist(), "size": self.size}

    @classmethod
    def from_meta(cls, meta: dict) -> "Alignment":
        return alignment_from_quad(np.asarray(meta["quad"], np.float64), int(meta["size"]))


def ffhq_quad(landmarks: np.ndarray) -> np.ndarray:
    """The FFHQ dataset's crop rectangle (an oriented square) from 68 landmarks."""
    lm = np.asarray(landmarks, np.float64)
    eye_left, eye_right = lm[36:42].mean(0), lm[42:48].mean(0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def alignment_from_quad(quad: np.ndarray, size: int) -> Alignment:
    src = np.array([quad[0], quad[1], quad[3]], np.float32)
    dst = np.array([[0, 0], [0, size], [size, 0]], np.float32)
    return Alignment(quad, size, cv2.getAffineTransform(src, dst).astype(np.float64))


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int) -> tuple[np.ndarray, Alignment]:
    """The aligned square face (size x size, uint8 RGB) and the map that produced it."""
    al = alignment_from_quad(ffhq_quad(landmarks), size)
    scale = np.hypot(*(al.quad[3] - al.quad[0])) / size
    src = image
    if scale > 2:  # shrinking a lot: low-pass first so the warp does not alias
        sigma = 0.5 * scale
        src = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return crop_aligned(src, al), al


def crop_aligned(image: np.ndarray, al: Alignment) -> np.ndarray:
    """The aligned square that ``al`` cuts out of ``image``."""
    return cv2.warpAffine(image, al.matrix, (al.size, al.size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def feather_mask(size: int, feather: float = 0.12) -> np.ndarray:
    """A square mask that is 1 inside and falls smoothly to 0 at the border (float32, size x size)."""
    d = np.minimum.reduce(np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5))
    d = np.minimum(d, np.minimum.reduce(np.meshgrid(size - np.arange(size) - 0.5, size - np.arange(size) - 0.5)))
    width = max(1.0, feather * size)
    t = np.clip((d - 1.0) / width, 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep


def blend_mask(shape: tuple[int, ...], al: Alignment, feather: float = 0.12) -> np.ndarray:
    """The feathered square mapped back into a photo of ``shape``: how much of each pixel an edit replaces (float32 H x W)."""
    h, w = shape[:2]
    mask = cv2.warpAffine(
        feather_mask(al.size, feather),
        cv2.invertAffineTransform(al.matrix),
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.clip(mask, 0.0, 1.0)


def paste_back(image: np.ndarray, edited_crop: np.ndarray, al: Alignment, feather: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """The photo with the edited square blended back in, and the blend mask (float32 H x W)."""
    h, w = image.shape[:2]
    back = cv2.warpAffine(edited_crop, cv2.invertAffineTransform(al.matrix), (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    mask = blend_mask(image.shape, al, feather)
    blend = image.astype(np.float32) * (1 - mask[..., None]) + back.astype(np.float32) * mask[..., None]
    out = np.where(mask[..., None] > 0, np.clip(np.rint(blend), 0, 255).astype(np.uint8), image)
    return out, mask


def arcface_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """The five points ArcFace alignment uses (eye centres, nose tip, mouth corners) from 68 landmarks."""
    lm = np.asarray(landmarks, np.float64)
    return np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]]).astype(np.float32)


# ArcFace's five-point template in its 112x112 crop (eyes, nose tip, mouth corners): the crop every ArcFace model
# of insightface's model zoo was trained on (its ``face_align.arcface_dst``)
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]], np.float64
)


def arcface_matrix(keypoints: np.ndarray, size: int = 112) -> np.ndarray:
    """The (2, 3) similarity transform (rotation, uniform scale, shift) taking five keypoints onto ArcFace's template
    at ``size`` (a multiple of 112 or of 128, as in insightface's ``estimate_norm``): least squares (Umeyama)."""
    from skimage.transform import SimilarityTransform

    if size % 112 == 0:
        dst = ARCFACE_TEMPLATE * (size / 112.0)
    elif size % 128 == 0:
        dst = ARCFACE_TEMPLATE * (size / 128.0) + [8.0 * size / 128.0, 0.0]
    else:
        raise ValueError(f"an ArcFace crop is 112 or 128 pixels (or a multiple), not {size}")
    tform = (
        SimilarityTransform.from_estimate(np.asarray(keypoints, np.float64), dst)
        if hasattr(SimilarityTransform, "from_estimate")
        else _estimated(SimilarityTransform, keypoints, dst)
    )
    return np.asarray(tform.params[:2], np.float64)


def _estimated(cls, src, dst):
    tform = cls()
    tform.estimate(np.asarray(src, np.float64), dst)
    return tform


def arcface_crop(image: np.ndarray, keypoints: np.ndarray, size: int = 112) -> np.ndarray:
    """The face cut out as ArcFace sees it: ``image`` warped by ``arcface_matrix`` into a ``size`` square (black outside)."""
    return cv2.warpAffine(image, arcface_matrix(keypoints, size), (size, size), borderValue=0.0)
