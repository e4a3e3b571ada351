"""Every stored node re-renders bit for bit from what the memory holds: the photo, the engine and its models, the
cumulative state and the session's seed, with a freshly loaded engine and a fresh inversion."""

from __future__ import annotations

import numpy as np


def _edit_and_rerender(store, parts, fresh_parts, photo):
    from chatface.models.base import EditSpec
    from chatface.models.images import decode_image_bytes
    from chatface.tools.editor import open_photo
    from chatface.tools.schemas import AttributeEdit
    from chatface.tools.toolkit import SessionToolkit

    kit = SessionToolkit(open_photo(store, parts, str(photo)))
    kit.apply_attribute([AttributeEdit(attribute="lipstick", strength=0.6)])
    kit.apply_attribute([AttributeEdit(attribute="smiling", strength=0.3)])
    kit.undo(1)
    kit.apply_attribute([AttributeEdit(attribute="lipstick", strength=0.9)], mode="set")
    sid = kit.editor.session_id
    session = store.get_session(sid)
    source = decode_image_bytes(store.read_blob(session.source_blob))
    latent = fresh_parts.generator.invert(source)  # nothing reused from the session but the photo
    nodes = [n for n in store.nodes(sid) if n.action == "edit"]
    assert len(nodes) == 3 and session.engine == fresh_parts.generator.name
    for node in nodes:
        stored = decode_image_bytes(store.read_blob(node.image_blob))
        state = {a: EditSpec(float(v["strength"]), int(v["t_edit"])) for a, v in node.state.items()}
        again = fresh_parts.generator.decode(source, latent, state)
        assert np.array_equal(again, stored), (node.seq, node.state)


def test_offline_nodes_rerender_bit_for_bit(store, parts, photo):
    from chatface.models.engines.catalog import load_engine

    _edit_and_rerender(store, parts, load_engine("offline"), photo)


def test_tiny_diffusion_nodes_rerender_bit_for_bit(store, photo, tiny_diffusion):
    from chatface.models.engines.catalog import load_engine

    def load():
        return load_engine("diffusion", models_dir=str(tiny_diffusion), diffusion_options={"device": "cpu", "dtype": "float32", "steps": 6})

    _edit_and_rerender(store, load(), load(), photo)
