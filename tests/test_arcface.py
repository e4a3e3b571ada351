"""ArcFace without insightface (issue 22: one OpenCV): chatface's alignment and onnxruntime run give insightface's
own embeddings, on a network the test builds (random weights, ArcFace's interface) and on real faces."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from helpers import require_extra

require_extra("onnxruntime", "diffusion")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    require_extra("torch", "diffusion")
    from chatface.models.weights.tiny import make_arcface

    path = tmp_path_factory.mktemp("arcface") / "arcface.onnx"
    make_arcface(path, seed=3)
    return path


def _faces():
    from chatface.models.faces.detection import detect_faces
    from chatface.tools.examples import group_photo
    from chatface.models.images import load_image
    from skimage import data

    photos = [data.astronaut()]
    if group_photo() is not None:
        photos.append(load_image(group_photo()))
    return [(img, f.landmarks) for img in photos for f in detect_faces(img)[:4]]


def test_the_embeddings_are_insightfaces(network):
    insightface = require_extra("insightface", "dev")  # the oracle: its own loader, alignment and preprocessing
    from insightface.utils import face_align

    from chatface.models.faces.alignment import arcface_keypoints
    from chatface.models.scorers.arcface import ArcFaceIdentityScorer

    ours = ArcFaceIdentityScorer(network)
    theirs = insightface.model_zoo.get_model(str(network), providers=["CPUExecutionProvider"])
    assert theirs.taskname == "recognition" and (theirs.input_mean, theirs.input_std) == (ours.mean, ours.std)
    faces = _faces()
    assert len(faces) >= 3
    for image, landmarks in faces:
        bgr = np.ascontiguousarray(image[..., ::-1])
        aligned = face_align.norm_crop(bgr, landmark=arcface_keypoints(landmarks), image_size=theirs.input_size[0])
        from chatface.models.faces.alignment import arcface_crop

        assert np.abs(arcface_crop(image, arcface_keypoints(landmarks)).astype(int) - aligned[..., ::-1].astype(int)).max() <= 1
        want = theirs.get_feat(aligned).ravel()
        want = want / np.linalg.norm(want)
        assert float(np.dot(ours.embedding(image, landmarks), want)) > 0.9999


def test_a_file_that_is_no_arcface_network_is_one_clear_error(tmp_path):
    from chatface.models.scorers.arcface import ArcFaceIdentityScorer, ArcFaceUnavailableError

    junk = tmp_path / "arcface.onnx"
    junk.write_bytes(b"not a network")
    with pytest.raises(ArcFaceUnavailableError, match="not an ONNX network"):
        ArcFaceIdentityScorer(junk)
    with pytest.raises(ArcFaceUnavailableError, match="not found"):
        ArcFaceIdentityScorer(tmp_path / "missing.onnx")


def test_the_diffusion_extra_brings_one_opencv():
    """insightface requires opencv-python, which installs a second cv2 beside the headless one chatface depends on;
    the extras a user installs name neither it nor the GUI OpenCV (dev keeps insightface for its test photo)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    user_extras = {k: v for k, v in project["optional-dependencies"].items() if k != "dev"}
    named = [r for reqs in user_extras.values() for r in reqs] + project["dependencies"]
    assert not [r for r in named if r.lower().startswith(("insightface", "opencv-python>", "opencv-python=", "opencv-contrib"))]
    assert any(r.startswith("opencv-python-headless") for r in project["dependencies"])
    code = "import sys; from chatface.models.scorers import arcface; assert 'insightface' not in sys.modules"  # not needed to run it
    import subprocess

    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
