"""Bad input, table-driven: every case gets a clear error and leaves the database untouched,
or (odd but valid photos) is handled correctly."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from chatface.memory.store import SessionNotFoundError
from chatface.models.base import ChatfaceModelError
from helpers import require_extra
from PIL import Image


def _t1_path():
    import insightface

    return os.path.join(os.path.dirname(insightface.__file__), "data", "images", "t1.jpg")


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def _bad_photo(kind, tmp_path, astronaut):
    p = tmp_path / f"{kind}.img"
    if kind == "not_an_image":
        p.write_bytes(b"%PDF-1.4 definitely not a photo")
    elif kind == "empty_file":
        p.write_bytes(b"")
    elif kind == "truncated_png":
        _save(Image.fromarray(astronaut), p, format="PNG")
        p.write_bytes(p.read_bytes()[:4000])
    elif kind == "truncated_jpeg":
        _save(Image.fromarray(astronaut), p, format="JPEG")
        p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3])
    elif kind == "decompression_bomb":
        _save(Image.new("1", (12000, 10000)), p, format="PNG")  # a tiny file, 120 megapixels decoded
    elif kind == "no_face":
        _save(Image.new("RGB", (300, 300), (90, 140, 200)), p, format="PNG")
    elif kind == "tiny_face":
        canvas = Image.new("RGB", (600, 600), (200, 200, 200))
        canvas.paste(Image.fromarray(astronaut).resize((40, 40)), (280, 280))
        _save(canvas, p, format="PNG")
    return p


@pytest.mark.parametrize(
    "kind, words",
    [
        ("not_an_image", "not an image"),
        ("empty_file", "not an image"),
        ("truncated_png", "truncated"),
        ("truncated_jpeg", "truncated"),
        ("decompression_bomb", "too large"),
        ("no_face", "no face"),
        ("tiny_face", "no face"),
    ],
)
def test_bad_photos_are_refused_before_anything_is_stored(kind, words, tmp_path, astronaut, store, parts):
    from chatface.tools.editor import open_photo

    path = _bad_photo(kind, tmp_path, astronaut)
    with pytest.raises(ChatfaceModelError) as err:
        open_photo(store, parts, str(path))
    assert words in str(err.value).lower(), str(err.value)
    assert "\n" not in str(err.value)
    assert store.list_sessions() == [] and store.verify_blobs() == []


def _odd_photo(kind, tmp_path, astronaut):
    img = Image.fromarray(astronaut)
    p = tmp_path / f"{kind}.png"
    if kind == "16bit_grey":
        arr = np.asarray(img.convert("L")).astype(np.uint16) * 257
        return _save(Image.fromarray(arr), p)  # 16-bit greyscale PNG (mode I;16)
    if kind == "cmyk_jpeg":
        return _save(img.convert("CMYK"), tmp_path / "cmyk.jpg", quality=95)
    if kind == "palette":
        return _save(img.convert("P", palette=Image.ADAPTIVE, colors=256), p)
    if kind == "alpha":
        rgba = img.convert("RGBA")
        rgba.putalpha(200)
        return _save(rgba, p)
    if kind == "greyscale":
        return _save(img.convert("L"), p)
    if kind == "exif_rotated":  # stored sideways, with the EXIF tag that says "rotate to view"
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90 CW to display
        return _save(img.transpose(Image.Transpose.ROTATE_90), tmp_path / "rotated.jpg", exif=exif, quality=95)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["16bit_grey", "cmyk_jpeg", "palette", "alpha", "greyscale", "exif_rotated"])
def test_odd_but_valid_photos_are_handled(kind, tmp_path, astronaut, store, parts):
    from chatface.tools.editor import open_photo

    editor = open_photo(store, parts, str(_odd_photo(kind, tmp_path, astronaut)))
    src = editor.source
    assert src.dtype == np.uint8 and src.ndim == 3 and src.shape[2] == 3
    assert src.shape[:2] == astronaut.shape[:2]  # the EXIF-rotated one is upright again
    box = editor.latent().meta["box"]
    assert 150 < (box[0] + box[2]) / 2 < 350  # the astronaut's face, where it is in the upright photo


def test_several_faces_the_largest_by_default_or_the_one_asked_for(store, parts):
    require_extra("insightface", "diffusion")  # its package data has the group photo
    from chatface.models.engines.catalog import load_engine
    from chatface.models.faces.detection import detect_faces
    from chatface.models.images import load_image
    from chatface.tools.editor import open_photo

    image = load_image(_t1_path())
    faces = detect_faces(image)
    assert len(faces) >= 5
    largest = max(faces, key=lambda f: f.size)
    editor = open_photo(store, parts, _t1_path())
    assert editor.latent().meta["box"] == list(largest.box)
    other = open_photo(store, load_engine("offline", face_index=2), _t1_path())
    assert other.latent().meta["box"] != list(largest.box)
    before = len(store.list_sessions())
    with pytest.raises(ChatfaceModelError, match="face"):
        open_photo(store, load_engine("offline", face_index=40), _t1_path())
    assert len(store.list_sessions()) == before


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"attribute": "wings", "strength": 0.5}, "unknown attribute"),
        ({"attribute": "smiling", "strength": 1.01}, "less than or equal to 1"),
        ({"attribute": "smiling", "strength": -7}, "greater than or equal to -1"),
        ({"attribute": "smiling", "strength": math.inf}, "strength"),
        ({"attribute": "smiling", "strength": -math.inf}, "strength"),
        ({"attribute": "smiling", "strength": math.nan}, "strength"),
        ({"attribute": "smiling", "strength": 0.5, "t_edit": -1}, "t_edit"),
        ({"attribute": "smiling", "strength": 0.5, "t_edit": 1000}, "t_edit"),
        ({"attribute": "smiling", "strength": 0.5, "t_edit": math.nan}, "t_edit"),
        ({"attribute": "", "strength": 0.5}, "attribute"),
    ],
)
def test_bad_tool_arguments_are_messages_and_store_nothing(edit, words, editor, tmp_path):
    from chatface.tools.toolkit import SessionToolkit

    tool = {t.name: t for t in SessionToolkit(editor, tmp_path).langchain_tools()}["apply_attribute"]
    msg = tool.invoke({"name": "apply_attribute", "args": {"edits": [edit]}, "id": "c1", "type": "tool_call"})
    assert msg.content.startswith("Error") and words in msg.content, msg.content
    assert editor.head().seq == 0 and len(editor.store.nodes(editor.session_id)) == 1


@pytest.mark.parametrize(
    "text", ["", "   ", "x" * 100_000, "😀🎉 make her smile 😀", "добавь очки", "ｍａｋｅ ｈｅｒ ｏｌｄｅｒ", "\x00\x1b[2J"]
)
def test_any_message_gets_an_answer(text, editor, tmp_path):
    from chatface.agent.planners.offline import OfflinePlanner
    from chatface.configuration import Configuration
    from helpers import chat_agent

    agent = chat_agent(editor, OfflinePlanner(use_embeddings=False), tmp_path, Configuration())
    reply = agent.send(text)
    assert isinstance(reply.text, str) and reply.text
    if not text.strip() or len(text) > 4000:
        assert editor.store.messages(editor.session_id) == [] and editor.head().seq == 0
    if "smile" in text:
        assert reply.head.strengths() == {"smiling": 0.6}


def test_sessions_that_do_not_exist_or_are_someone_elses(store, parts, photo):
    from chatface.tools.editor import SessionEditor, open_photo

    mine = open_photo(store, parts, str(photo), owner="alice")
    for sid, owner in (("no-such-session", "alice"), (mine.session_id, "bob")):
        with pytest.raises(SessionNotFoundError):
            SessionEditor(store, parts, sid, owner=owner)
    with pytest.raises(SessionNotFoundError):
        store.undo(mine.session_id, owner="bob")
    assert store.head(mine.session_id, owner="alice").seq == 0
