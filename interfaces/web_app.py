"""The browser interface: a Gradio app on 127.0.0.1 over the same agent, tools and memory.

Upload a photo (the face is found and inverted once), chat, and see the
original and the current image side by side. The edit history is a gallery
of every node, labelled with its parent so branches are visible; clicking
one makes it the current node. Undo and redo buttons, a download of the
current image, and a table of each node's identity and direction scores.
Every browser tab has its own chat session; slow steps show progress.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import numpy as np

from ..agent.session import ChatAgent, ChatService
from ..errors import ChatfaceError
from ..tools.edit_state import describe, tree_rows
from ..tools.editor import SessionEditor


DECODED_IMAGES_KEPT = 256


class WebBackend:
    """What the app's callbacks share: one ChatService (store, engine and planner, each loaded once)."""

    def __init__(self, chats: ChatService, *, owner: str = "web"):
        self.chats = chats
        self.config = chats.config
        self.owner = owner
        self.downloads = Path(tempfile.mkdtemp(prefix="chatface-web-"))
        self._decoded: dict[str, np.ndarray] = {}  # blob key -> image; blobs are content-addressed, so never stale

    def open_photo(self, image: np.ndarray) -> SessionEditor:
        return self.chats.service.open_photo("(uploaded in the browser)", owner=self.owner, image=image)

    def editor(self, session_id: str) -> SessionEditor:
        return self.chats.service.open_session(session_id, owner=self.owner)

    def tools(self, session_id: str):
        return self.chats.service.toolkit(self.editor(session_id))

    def image(self, ed: SessionEditor, node) -> np.ndarray:
        """A node's image, decoded once per stored blob (the gallery shows every node after every action)."""
        if node.image_blob is None:
            return ed.image_of(node)
        if node.image_blob not in self._decoded:
            if len(self._decoded) >= DECODED_IMAGES_KEPT:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[node.image_blob] = ed.image_of(node)
        return self._decoded[node.image_blob]

    def agent(self, session_id: str) -> ChatAgent:
        return self.chats.resume(session_id, owner=self.owner)


def _view(backend: WebBackend, session_id: str | None):
    """(before, after, gallery items, score rows, status, download path) of a session's current state."""
    if not session_id:
        return None, None, [], [], "Upload a photo to start.", None
    ed = backend.editor(session_id)
    stored = backend.chats.service.history(session_id, owner=backend.owner)
    head, nodes = stored.head, stored.nodes
    gallery, rows = [], []
    current = None
    for n, parent, is_head in tree_rows(nodes, head.id):
        mark = "▶ " if is_head else ""
        image = backend.image(ed, n)
        if is_head:
            current = image
        gallery.append((image, f"{mark}node {n.seq} (from {parent}) {n.action}: {describe(n.state)}"))
        s = n.scores or {}
        rows.append([n.seq, parent, n.action, describe(n.state), s.get("identity", ""), s.get("identity_distance", ""),
                     ", ".join(f"{a} {d:+.2f}" for a, d in (s.get("direction") or {}).items())])
    target = backend.downloads / f"chatface-{session_id[:8]}-node{head.seq}.png"
    if not target.exists():
        target.write_bytes(ed.png_of(head))
    scores = head.scores or {}
    check = ""
    if scores:
        check = f" · identity {scores['identity']:.3f} ({'same person' if scores['same_person'] else 'identity check failed'})"
    status = f"**Node {head.seq}**: {describe(head.state)}{check}"
    return backend.image(ed, nodes[0]), current, gallery, rows, status, str(target)


def build_app(backend: WebBackend) -> gr.Blocks:
    with gr.Blocks(title="chatface") as app:
        gr.Markdown("# chatface\nUpload a face photo, then say what to change: *a subtle smile and glasses*, *more*, *undo*, *start over*.")
        session = gr.State(None)
        with gr.Row():
            upload = gr.Image(type="numpy", label="Photo", sources=["upload"], elem_id="photo-upload", height=320)
            before = gr.Image(label="Before", interactive=False, elem_id="before", height=320)
            after = gr.Image(label="After", interactive=False, elem_id="after", height=320)
        status = gr.Markdown("Upload a photo to start.", elem_id="status")
        chat = gr.Chatbot(label="Conversation", elem_id="chat", height=260)
        with gr.Row():
            message = gr.Textbox(placeholder="e.g. give her a subtle smile and red lipstick", show_label=False, scale=5, elem_id="message")
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
        with gr.Row():
            undo = gr.Button("Undo", elem_id="undo")
            redo = gr.Button("Redo", elem_id="redo")
            download = gr.DownloadButton("Download current image", elem_id="download")
        gallery = gr.Gallery(label="History: click a node to go back to it", columns=6, height=220, elem_id="history", allow_preview=False)
        scores = gr.Dataframe(headers=["node", "from", "action", "state", "identity", "distance", "direction"], label="Scores",
                              interactive=False, elem_id="scores")
        outputs = [before, after, gallery, scores, status, download]

        def on_upload(image, progress=gr.Progress()):
            if image is None:
                return None, [], *_view(backend, None)
            progress(0.1, desc="Loading the engine and finding the face")
            try:
                img = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
                ed = backend.open_photo(img)
            except ChatfaceError as exc:
                raise gr.Error(str(exc)) from None
            progress(1.0)
            return ed.session_id, [], *_view(backend, ed.session_id)

        def on_send(text, history, session_id, progress=gr.Progress()):
            if not session_id:
                raise gr.Error("Upload a photo first.")
            history = list(history or [])
            progress(0.2, desc="Planning and editing")
            try:
                reply = backend.agent(session_id).send(text or "")
                answer = reply.text
            except ChatfaceError as exc:
                answer = f"Sorry, that did not work: {exc}"
            history += [{"role": "user", "content": text or ""}, {"role": "assistant", "content": answer}]
            return "", history, *_view(backend, session_id)

        def on_move(session_id, which):
            if not session_id:
                raise gr.Error("Upload a photo first.")
            getattr(backend.tools(session_id), which)(1)
            return _view(backend, session_id)

        def on_select(session_id, evt: gr.SelectData):
            if not session_id:
                raise gr.Error("Upload a photo first.")
            nodes = backend.chats.service.history(session_id, owner=backend.owner).nodes
            backend.tools(session_id).checkout(nodes[evt.index].seq)
            return _view(backend, session_id)

        upload.upload(on_upload, [upload], [session, chat, *outputs])
        send.click(on_send, [message, chat, session], [message, chat, *outputs])
        message.submit(on_send, [message, chat, session], [message, chat, *outputs])
        undo.click(lambda sid: on_move(sid, "undo"), [session], outputs)
        redo.click(lambda sid: on_move(sid, "redo"), [session], outputs)
        gallery.select(on_select, [session], outputs)
    return app
