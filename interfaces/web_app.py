"""The browser editor: a Gradio app on 127.0.0.1 over the same session service, agent, tools and memory.

What a person sees:

- a chat, with example requests to click, that answers in plain words (the numbers in a detail to open),
  each change with a small before/after of the face beside its reply;
- a big before/after slider zoomed on the edited face, for close looks (the whole photo one click away);
- one slider per attribute of the current edit state, and "add an edit" from what the engine does: moving a
  slider is an ``apply_attribute`` through the same session tools, checked and stored like a chat turn, or,
  with "preview", rendered and checked without being stored until the person applies it;
- undo and redo (on only where they lead), and a history of face crops that marks the current version and
  scrolls to it; clicking a version goes back to it;
- example photos (the astronaut, Grace Hopper, the two side by side; with insightface its group photo); in a
  photo with several faces, the numbered faces replace the comparison until the person clicks one.

Every browser tab has its own session (its id in the tab's sessionStorage, so a reload keeps it and another
tab starts its own), and "Your sessions" reopens any earlier one. A reload shows the conversation as it was
shown. With users in the database the page asks for a login (Gradio's own, checked against the argon2 hashes)
or takes the user from a trusted proxy header; each user sees and reaches only their own sessions, and a
session id of someone else's answers as one that does not exist. Uploads are limited in bytes and megapixels,
the queue in length ("busy, try again"), and a message sent while one runs waits with the controls off.
Errors (no face, not an image, nothing to redo) are one line in the status and the chat, never an exception
on the page; controls stay disabled until a photo is in; slow steps show what the engine is doing.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import tempfile
from typing import Any
from pathlib import Path

import gradio as gr
import numpy as np

from ..agent.session import ChatService
from ..errors import ChatfaceError
from ..tools.edit_state import node_scores, specs, strengths, tree_rows
from ..tools.editor import PREVIEW_SIDE, SessionEditor, fit_within
from ..tools.capabilities import engine_offers
from ..tools.examples import REQUESTS, SEVERAL_FACES, portrait_crop, write_example_photos
from ..tools.schemas import AttributeEdit, TextConcept
from ..tools.results import EditOutcome, MoveOutcome
from ..tools.service import StoredAttempt, user_owner
from ..tools.vocabulary import concept_text, label, people_label
from .access import LoginThrottle
from .web_replies import amount_in_words, in_page_words, plain_reply, slider_label, state_in_words

log = logging.getLogger(__name__)

SCREEN = PREVIEW_SIDE  # the longest side of an image sent to the page (the download keeps the full size)
THUMB = 192  # history and session thumbnails: the face, small
SESSIONS_SHOWN = 12
WORKERS = 8  # requests of one kind served at once: more than the big-photo lane holds, so small edits never queue behind it
SLIDERS = 8  # attributes adjustable at once (the edit state rarely holds more)
FACE = "Face"
WHOLE = "Whole photo"
PAIR = 168  # the height of the before/after picture shown in the chat after each change
CSS = """
#status { min-height: 3.2em; }
#history .caption-label { white-space: normal !important; overflow: visible !important; font-size: 0.8em; }
#chat img { max-height: 180px; width: auto; border-radius: 6px; }
@media (max-width: 640px) {
  #history .caption-label { position: static !important; background: none !important; font-size: 0.72em; line-height: 1.2; }
  #history .thumbnail-item { height: auto !important; }
}
"""
# after the history redraws: bring its current version (the selected thumbnail) into view
SCROLL_TO_CURRENT = """() => { setTimeout(() => {
  const item = document.querySelector('#history .thumbnail-item.selected, #history button.selected');
  if (item) item.scrollIntoView({block: 'nearest', inline: 'nearest'}); }, 150); }"""


class WebBackend:
    """What the app's callbacks share: one ChatService (store, engine and planner, each loaded once), and who owns what.

    ``authenticated``: requests carry a logged-in user (Gradio's login, or ``trusted_header`` from a proxy), whose
    sessions are ``user:NAME``'s; otherwise the one ``owner`` of a page on a loopback address (or ``--no-auth``).
    """

    def __init__(
        self,
        chats: ChatService,
        *,
        owner: str = "web",
        examples_dir: str | Path | None = None,
        authenticated: bool = False,
        trusted_header: str | None = None,
    ):
        self.chats = chats
        self.service = chats.service
        self.config = chats.config
        self.owner = owner
        self.authenticated = authenticated or bool(trusted_header)
        self.trusted_header = trusted_header
        self.logins = LoginThrottle()
        self.downloads = Path(tempfile.mkdtemp(prefix="chatface-web-"))
        self.examples_dir = Path(examples_dir) if examples_dir else self.downloads / "examples"

    def owner_of(self, request: gr.Request | None) -> str:
        """The owner of the sessions this request may reach."""
        if not self.authenticated:
            return self.owner
        name = getattr(request, "username", None) if request is not None else None
        if not name:
            raise ChatfaceError("please log in again")
        return user_owner(name)

    # -- login (Gradio's auth= and auth_dependency=) --------------------------------------------------
    def check_login(self, name: str, password: str) -> bool:
        """Gradio's login check: the argon2 hash, behind a throttle (5 wrong passwords for a name lock it for a minute)."""
        if self.logins.locked(name or ""):
            log.warning("login of %r refused: too many wrong passwords, locked for a while", name)
            return False
        ok = self.service.accounts.check_password(name, password) is not None
        self.logins.record(name or "", ok)
        return ok

    def user_from_proxy(self, request) -> str | None:
        """The user a trusted reverse proxy names in ``trusted_header`` (None: the page answers 401)."""
        value = (request.headers.get(self.trusted_header) or "").strip()
        return value or None

    def read_and_find_faces(self, path: str | Path, name: str):
        """(image, face boxes) of an uploaded file: the decode and the face search an opening starts with (run in
        the service's background lane: a 24-megapixel upload costs a second of CPU)."""
        image = self.service.read_upload(Path(path).read_bytes(), name)
        return image, self.service.faces(image)

    # -- sessions --------------------------------------------------------------------
    def open_image(self, image: np.ndarray, name: str, owner: str, face_index: int | None = None) -> SessionEditor:
        return self.service.open_photo(name, owner=owner, image=image, face_index=face_index)

    def editor(self, session_id: str, owner: str) -> SessionEditor:
        return self.service.open_session(session_id, owner=owner)

    def tools(self, session_id: str, owner: str):
        return self.service.toolkit(self.editor(session_id, owner))

    def image(self, ed: SessionEditor, node) -> np.ndarray:
        """A node's image, decoded once per stored blob into the service's byte-bounded cache (shared by every page)."""
        if node.image_blob is None:
            return ed.image_of(node)
        found = self.service.images.get(node.image_blob)
        return found if found is not None else self.service.images.put(node.image_blob, ed.image_of(node))

    def thumbnail(self, ed: SessionEditor, node, box) -> np.ndarray | str:
        """The history thumbnail of a node: a WebP file written once per stored image, so a redraw neither re-encodes
        every version nor rewrites a file that another request may be reading (Gradio's own cache writes arrays to
        the same path each time)."""
        if node.image_blob is None:
            return _face_view(self.image(ed, node), box, THUMB)
        path = self.downloads / "thumbs" / f"{node.image_blob}-{'-'.join(str(int(v)) for v in box or ())}.webp"
        if not path.exists():
            from PIL import Image

            buffer = io.BytesIO()
            Image.fromarray(_face_view(self.image(ed, node), box, THUMB)).save(buffer, "WEBP", quality=85)
            write_once(path, buffer.getvalue())
        return str(path)

    def pair_picture(self, ed: SessionEditor, before, after, box) -> str:
        """The small before/after picture of a change (the face of version ``before`` beside that of ``after``) shown in
        the chat next to its reply: a WebP file written once per pair of stored images."""
        key = f"{before.image_blob or before.id}-{after.image_blob or after.id}-{'-'.join(str(int(v)) for v in box or ())}"
        path = self.downloads / "pairs" / f"version{before.seq}-to-version{after.seq}-{key}.webp"  # the page can tell which
        if not path.exists():
            from PIL import Image

            buffer = io.BytesIO()
            Image.fromarray(
                _pair(
                    _face_view(self.image(ed, before), box, PAIR * 2),
                    _face_view(self.image(ed, after), box, PAIR * 2),
                    f"version {before.seq}",
                    f"version {after.seq}",
                )
            ).save(buffer, "WEBP", quality=88)
            write_once(path, buffer.getvalue())
        return str(path)

    def examples(self) -> list[Path]:
        return write_example_photos(self.examples_dir)


def attribute_choices(engine: str) -> list[tuple[str, str]]:
    """The "Add an edit" list: what ``engine`` does, one entry per attribute in people's words ("bigger eyes /
    smaller eyes"), nothing it would refuse."""
    labels: dict[str, list[str]] = {}
    for o in engine_offers(engine):
        labels.setdefault(o.attribute, []).append(o.label)
    return [(" / ".join(words), attr) for attr, words in labels.items()]


def write_once(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name and move it into place: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _changed(node, parent_state: dict) -> str:
    """What a node changed from its parent, in a few words ("smiling +0.30, lipstick +0.60", "reset")."""
    if node.action == "reset":
        return "reset to the original"
    if node.seq == 0:
        return "original photo"
    parts = []
    for a in sorted(set(node.state) | set(parent_state)):
        new, old = strengths(node.state).get(a), strengths(parent_state).get(a)
        if new != old:
            parts.append(f"{people_label(a, float(old or 0.0))} removed" if new is None else amount_in_words(a, new))
    return ", ".join(parts) or node.action


def _ancestors(nodes, node) -> set[int]:
    """The ids on the path from the original photo to ``node`` (both included)."""
    by_id = {n.id: n for n in nodes}
    ids = set()
    while node is not None:
        ids.add(node.id)
        node = by_id.get(node.parent_id)
    return ids


def _where(nodes, n, head, head_path: set[int]) -> str:
    """How a node relates to the current one: "▶ current", "" (an earlier step of it, in ``head_path``), "undone"
    (redo reaches it), "other branch"."""
    if n.id == head.id:
        return "▶ current · "
    if n.id in head_path:
        return ""
    if head.id in _ancestors(nodes, n):
        return "undone · "
    return "other branch · "


def _moved(text: str, move: MoveOutcome) -> str:
    """An undo / redo / checkout result in the page's words (versions, not nodes)."""
    if not move.moved:
        return in_page_words(text)
    return f"Now at version {move.node_seq}: {state_in_words(move.state)}."


def _slider_edit(key: str, value: float) -> tuple[list[AttributeEdit], list[TextConcept]]:
    """A slider's value as the tools take it: an attribute edit, or a free-text concept for a concept's slider."""
    text = concept_text(key)
    if text is not None:
        return [], [TextConcept(text=text, strength=float(value))]
    return [AttributeEdit(attribute=key, strength=float(value))], []


def _slider_keys(state: dict, extra) -> list[str]:
    """Which attribute each slider shows: the state's, in name order, then those just added."""
    return (sorted(state) + [a for a in extra if a not in state])[:SLIDERS]


def _face_view(image: np.ndarray, box, longest: int = SCREEN) -> np.ndarray:
    return fit_within(portrait_crop(image, tuple(box), scale=2.2) if box else image, longest)


def _pair(before: np.ndarray, after: np.ndarray, left: str, right: str) -> np.ndarray:
    """Two face views at PAIR pixels high, side by side, each named at its foot ("version 0", "version 1")."""
    import cv2

    def tile(img, name):
        img = cv2.resize(img, (max(1, round(img.shape[1] * PAIR / img.shape[0])), PAIR), interpolation=cv2.INTER_AREA)
        img = np.ascontiguousarray(img)
        for colour, width in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(img, name, (6, PAIR - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, width, cv2.LINE_AA)
        return img

    a, b = tile(before, left), tile(after, right)
    gap = np.full((PAIR, 4, 3), 255, np.uint8)
    return np.hstack([a, gap, b])


def _boxes_drawn(image: np.ndarray, boxes) -> np.ndarray:
    """The photo with each face's box and number, for picking one."""
    import cv2

    out = image.copy()
    thick = max(2, image.shape[1] // 400)
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 210, 0), thick)
        cv2.putText(out, str(i + 1), (x0, max(0, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, max(0.6, thick / 2), (255, 210, 0), thick)
    return out


def launch(app: gr.Blocks, backend: WebBackend, host: str, port: int) -> None:
    """Serve the app with the page's style: queued (so slow edits show progress) with a bounded queue, uploads
    limited in bytes, and a login when the backend authenticates (Gradio's, or a trusted proxy's header)."""
    login: dict[str, Any] = {}
    if backend.trusted_header:
        login = {"auth_dependency": backend.user_from_proxy}
    elif backend.authenticated:
        login = {
            "auth": backend.check_login,
            "auth_message": (
                "Log in with your chatface user (chatface users add NAME). After 5 wrong passwords a name is locked for a minute."
            ),
        }
    app.queue(max_size=backend.config.queue_size, default_concurrency_limit=WORKERS).launch(
        server_name=host, server_port=port, show_error=False, quiet=True, css=CSS, max_file_size=backend.service.max_upload_bytes, **login
    )


SESSION_JS = "chatface-session"  # the sessionStorage key: one session per tab, kept over a reload of that tab
READ_TAB_SESSION = f"(sid, zoom) => [sessionStorage.getItem('{SESSION_JS}') || '', zoom]"
WRITE_TAB_SESSION = f"(sid) => {{ if (sid) sessionStorage.setItem('{SESSION_JS}', sid); else sessionStorage.removeItem('{SESSION_JS}'); }}"


def build_app(backend: WebBackend) -> gr.Blocks:
    with gr.Blocks(title="chatface") as app:
        gr.Markdown("# chatface\nUpload a face photo or click an example, then say what to change, or move a slider.")
        # the session id lives in the tab (sessionStorage), not in this process: any front end (a restarted one, another
        # replica behind a load balancer) serves the page, each tab has its own session, and the owner check decides
        # whether this login may reach it
        session = gr.Textbox(value="", visible=False, elem_id="session-id")
        added = gr.State([])  # attributes added with "add an attribute", not yet moved
        pending = gr.State(None)  # (image, name, face boxes) of a photo with several faces, until one is clicked
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                # a photo with several faces takes the comparison's place until one is clicked
                picker = gr.Image(
                    label="This photo has several faces: click the one to edit",
                    visible=False,
                    interactive=False,
                    elem_id="face-picker",
                    type="numpy",
                )
                # the divider starts at the left edge's side, so the whole face shows the edit (drag it to compare)
                compare = gr.ImageSlider(
                    label="Before | After",
                    elem_id="compare",
                    type="numpy",
                    interactive=False,
                    max_height=560,
                    slider_position=12,
                    buttons=["fullscreen"],
                )
                zoom = gr.Radio([FACE, WHOLE], value=FACE, show_label=False, elem_id="zoom", interactive=False)
                with gr.Row():
                    upload = gr.UploadButton("Upload a photo", file_types=["image"], type="filepath", elem_id="upload", variant="primary")
                    download = gr.DownloadButton("Download", elem_id="download", interactive=False)
                example_photo = gr.Image(visible=False, type="filepath", elem_id="example-photo")
                gr.Examples(
                    [[str(p)] for p in backend.examples()],
                    inputs=[example_photo],
                    label="Or start from an example photo",
                    elem_id="example-photos",
                    examples_per_page=12,
                )
            with gr.Column(scale=2, min_width=300):
                chat = gr.Chatbot(
                    show_label=False,
                    elem_id="chat",
                    height=420,
                    feedback_options=None,
                    placeholder="Say what to change: *a subtle smile and red lipstick*, *more*, *undo*.",
                )
                # the one place where the page says where things stand, and where a running request shows its stage
                status = gr.Markdown("Upload a photo to start.", elem_id="status")
                with gr.Row():
                    message = gr.Textbox(
                        placeholder="e.g. give her a subtle smile and red lipstick", show_label=False, scale=5, elem_id="message"
                    )
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send", min_width=70)
                gr.Examples([[r] for r in REQUESTS], inputs=[message], label="Try saying", elem_id="example-requests")
                # a second photo, of someone else, for "give her the lipstick of this photo" and "as much smile as in
                # this photo": each request sent while it is here may take from it (nothing of its pixels is copied)
                # (a file, not an image component: a file that is not a photo reaches on_send, which says so in one
                # line, instead of failing in Gradio's own decoding)
                reference = gr.File(
                    label="Reference photo (optional): for requests like “the lipstick of this photo”",
                    file_types=["image"],
                    type="filepath",
                    height=110,
                    elem_id="reference",
                )
                with gr.Row():
                    undo = gr.Button("↶ Undo", elem_id="undo", interactive=False)
                    redo = gr.Button("↷ Redo", elem_id="redo", interactive=False)
                with gr.Group(elem_id="sliders"):
                    sliders = [
                        gr.Slider(-1, 1, value=0, step=0.01, visible=False, elem_id=f"slider-{i}", interactive=True) for i in range(SLIDERS)
                    ]
                # a slider's new strength seen before it is stored: the history keeps only what the person chose
                preview_mode = gr.Checkbox(label="Preview a slider move before applying it", value=False, elem_id="preview-mode")
                with gr.Row(visible=False, elem_id="preview-actions") as preview_actions:
                    apply_preview = gr.Button("✓ Apply this", variant="primary", elem_id="apply-preview")
                    discard_preview = gr.Button("✗ Discard", elem_id="discard-preview")
                add = gr.Dropdown(
                    choices=attribute_choices(backend.service.config.engine),
                    value=None,
                    label="Add an edit",
                    elem_id="add-attribute",
                    interactive=False,
                )
        gallery = gr.Gallery(
            label="History: click a version to go back to it (▶ marks the current one)",
            columns=6,
            height=260,
            elem_id="history",
            allow_preview=False,
            object_fit="contain",
            fit_columns=False,
        )
        with gr.Accordion("Your sessions: click one to reopen it", open=False, elem_id="sessions-box"):
            sessions_list = gr.Gallery(
                show_label=False, columns=6, height=220, elem_id="sessions", allow_preview=False, object_fit="contain", fit_columns=False
            )
        with gr.Accordion("Checks of every version", open=False):
            scores = gr.Dataframe(
                headers=["version", "from", "change", "same person", "visible in the asked direction", "looks like a photo"],
                interactive=False,
                elem_id="scores",
                wrap=True,
            )
        listed = gr.State([])  # the session ids of the "your sessions" gallery, in its order
        previewing = gr.State(None)  # (attribute, strength) of the slider move shown as a preview, not yet applied

        controls = [zoom, download, message, send, undo, redo, add]
        view_outputs = [
            compare,
            picker,
            gallery,
            scores,
            status,
            download,
            *controls,
            *sliders,
            added,
            sessions_list,
            listed,
            preview_actions,
            previewing,
        ]

        # -- the view of a session -------------------------------------------------------
        def your_sessions(owner: str) -> tuple[list, list[str]]:
            """The owner's newest sessions as (thumbnail of the current face, "title · time · last change"), and their ids."""
            items, ids = [], []
            for info, head in backend.service.sessions(owner=owner)[:SESSIONS_SHOWN]:
                try:
                    ed = backend.editor(info.id, owner)
                    thumb = backend.thumbnail(ed, head, ed.latent().meta.get("box"))
                except ChatfaceError:  # an engine this server does not run: listed without a picture
                    thumb = np.full((THUMB, THUMB, 3), 235, np.uint8)
                items.append((thumb, f"{info.title} · {info.updated_at[:16].replace('T', ' ')} · {state_in_words(specs(head.state))}"))
                ids.append(info.id)
            return items, ids

        def view(session_id, owner, extra=(), zoom_value=FACE, note: str | None = None, listing: bool = False) -> dict:
            """The page for a session; ``listing``: also redraw "your sessions" (when a session is opened or the page
            loads, not after every edit: its thumbnails are the heaviest part of a redraw)."""
            mine: dict[Any, Any] = {}  # the components to redraw -> their values
            if listing or not session_id:
                items, ids = your_sessions(owner)
                mine = {sessions_list: items, listed: ids}
            if not session_id:
                # the message box stays open: a request typed (or an example clicked) before any photo is answered with
                # what to do first, and kept
                off = {c: gr.update(interactive=c in (message, send)) for c in controls}
                return {
                    compare: gr.update(value=None, visible=True),
                    picker: gr.update(visible=False),
                    gallery: [],
                    scores: [],
                    status: note or "Upload a photo to start.",
                    **off,
                    **{s: gr.update(visible=False) for s in sliders},
                    added: [],
                    **mine,
                }
            ed = backend.editor(session_id, owner)
            head, nodes = backend.service.tree(session_id, owner=owner)
            by_id = {n.id: n for n in nodes}
            box = ed.latent().meta.get("box")
            items, rows, head_index = [], [], 0
            head_path = _ancestors(nodes, head)
            for n, parent, is_head in tree_rows(nodes, head.id):
                head_index = len(items) if is_head else head_index
                parent_state = by_id[n.parent_id].state if n.parent_id in by_id else {}
                what = _changed(n, parent_state)
                mark = _where(nodes, n, head, head_path)
                items.append((backend.thumbnail(ed, n, box), f"{mark}{n.seq}: {what}"))
                s = node_scores(n)
                if s is not None:
                    same = f"{'yes' if s.same_person else 'NO'} (distance {s.identity_distance:.2f}; {s.identity_criterion})"
                    seen = ", ".join(
                        f"{people_label(a, d)} {'yes' if s.direction_ok.get(a) else 'no'} ({d:+.2f}, needs {s.direction_threshold:+.2f})"
                        for a, d in s.direction.items()
                    )
                    looks = "-" if s.realism is None else ("yes" if s.realism.ok else "no: " + "; ".join(s.realism.problems.values()))
                else:
                    same, seen, looks = "-", "-", "-"
                rows.append([n.seq, parent, what, same, seen or "-", looks])
            current, source = backend.image(ed, head), backend.image(ed, nodes[0])
            pair = (
                (_face_view(source, box), _face_view(current, box))
                if zoom_value == FACE
                else (fit_within(source, SCREEN), fit_within(current, SCREEN))
            )
            target = backend.downloads / f"chatface-{session_id[:8]}-version{head.seq}.png"
            if not target.exists():
                write_once(target, ed.png_of(head))  # the download: the full-size photo
            keys = _slider_keys(head.state, extra)
            slider_updates = {}
            for i, slider in enumerate(sliders):
                if i < len(keys):
                    a = keys[i]
                    # the value as the replies write it (two decimals), so the slider and the chat never disagree
                    value = float(f"{strengths(head.state)[a]:.2f}") if a in head.state else 0.0
                    slider_updates[slider] = gr.update(
                        visible=True,
                        value=value,
                        label=slider_label(a),
                        info="not applied yet: move it to apply" if a not in head.state else "",
                    )
                else:
                    slider_updates[slider] = gr.update(visible=False, value=0)
            mine.update({preview_actions: gr.update(visible=False), previewing: None})  # a redraw ends any preview
            line = f"**Version {head.seq}**: {state_in_words(specs(head.state))}"
            # undo and redo only where there is somewhere to go: a parent, an undone child
            can_redo = backend.service.can_redo(session_id, owner=owner, tree=(head, nodes))
            can: dict[Any, bool] = {undo: head.parent_id is not None, redo: can_redo}
            return {
                compare: gr.update(value=pair, visible=True, label="Before | After"),
                picker: gr.update(visible=False),
                gallery: gr.update(value=items, selected_index=head_index),
                scores: rows,
                status: f"{note}  \n{line}" if note else line,
                download: gr.update(value=str(target), interactive=True),
                **{c: gr.update(interactive=can.get(c, True)) for c in controls if c is not download},
                **slider_updates,
                added: [a for a in extra if a not in head.state][: SLIDERS - len(head.state)],
                **mine,
            }

        def safe(fn):
            """Run a callback; a ChatfaceError (or any failure) becomes one line in the status, never a page-wide error.
            The controls that a running request turned off come back on."""

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                try:
                    return fn(*args, **kwargs)
                except ChatfaceError as exc:
                    return {status: f"⚠️ {exc}", message: gr.update(interactive=True), send: gr.update(interactive=True)}
                except Exception as exc:  # noqa: BLE001 - a bug must still not leave the page in an error state
                    log.exception("web callback failed")
                    return {
                        status: f"⚠️ Something went wrong on the server ({type(exc).__name__}); the history shows what is stored.",
                        message: gr.update(interactive=True),
                        send: gr.update(interactive=True),
                    }

            return wrapper

        def attempts_of(session_id, owner, outcomes: list[EditOutcome]) -> dict[int, list[StoredAttempt]]:
            """The stored attempts of each node these apply_attribute outcomes made (none for an edit that stored nothing)."""
            return {o.node_seq: backend.service.attempts(session_id, o.node_seq, owner=owner) for o in outcomes if o.node_id is not None}

        def chat_lines(session_id, owner) -> list:
            """The conversation as the page showed it, read back from the database (so a reload shows the same): each
            change's before/after picture is drawn from the two stored versions it names."""
            lines = backend.service.shown(session_id, owner=owner)
            if not any(line.get("pair") for line in lines):
                return lines
            ed = backend.editor(session_id, owner)
            _, nodes = backend.service.tree(session_id, owner=owner)
            by_seq = {n.seq: n for n in nodes}
            box = ed.latent().meta.get("box")
            out = []
            for line in lines:
                pair = line.get("pair")
                if not pair:
                    out.append(line)
                elif pair[0] in by_seq and pair[1] in by_seq:
                    picture = backend.pair_picture(ed, by_seq[pair[0]], by_seq[pair[1]], box)
                    out.append(
                        {
                            "role": "assistant",
                            "content": {"path": picture, "alt_text": f"before: version {pair[0]}; after: version {pair[1]}"},
                        }
                    )
            return out

        def say(history, session_id, owner, user: str, answer: str, details: str = "", pair: tuple[int, int] | None = None) -> list:
            """The chat with this exchange added, stored as shown (a reload shows the same lines); ``pair``: the versions
            before and after the change it made, shown as a small before/after picture beside the reply."""
            lines: list[dict[str, Any]] = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            if pair is not None and pair[0] != pair[1]:
                lines.append({"role": "assistant", "content": "", "pair": [int(pair[0]), int(pair[1])]})
            if details:
                lines.append(
                    {"role": "assistant", "content": details, "metadata": {"title": "Details: checks and attempts", "status": "done"}}
                )
            if not session_id:
                return [*(history or []), *lines]
            backend.service.add_shown(session_id, lines, owner=owner)
            return chat_lines(session_id, owner)

        # -- opening a photo ------------------------------------------------------------------
        def open_image(image, name, owner, zoom_value, face_index=None, progress=None):
            if progress is not None:
                progress(0.2, desc="Finding the face and inverting it (once per photo)")
            ed = backend.open_image(image, name, owner, face_index)
            history = [{"role": "assistant", "content": f"New photo ({Path(name).name}). What would you like to change?"}]
            backend.service.add_shown(ed.session_id, history, owner=owner)
            return {session: ed.session_id, chat: history, pending: None, **view(ed.session_id, owner, (), zoom_value, listing=True)}

        def start(path, session_id, owner, zoom_value, progress, pick: bool = True):
            if not path:
                return {}
            name = Path(path).name
            keep = "; the current photo stays" if session_id else ""
            try:
                backend.service.check_upload_size(Path(path).stat().st_size, name)  # before a byte of it is read
                image, boxes = backend.service.lane.run(backend.read_and_find_faces, path, name)
            except ChatfaceError as exc:
                return {status: f"⚠️ {exc}{keep}."}
            if not boxes:
                return {status: f"⚠️ No face found in {name} (a clear, frontal face is needed){keep}."}
            if len(boxes) > 1 and pick:
                # one clear step: the numbered faces take the comparison's place, and nothing else can be asked until one
                # is clicked (a request would otherwise go to the previous photo)
                off = {c: gr.update(interactive=False) for c in (message, send, undo, redo, add, zoom, download)}
                return {
                    pending: (image, name, boxes),
                    picker: gr.update(visible=True, value=fit_within(_boxes_drawn(image, boxes), SCREEN)),
                    compare: gr.update(visible=False),
                    **off,
                    **{sl: gr.update(visible=False) for sl in sliders},
                    status: f"**{name} has {len(boxes)} faces: click the one to edit** (or upload another photo).",
                }
            return open_image(image, name, owner, zoom_value, progress=progress)

        @safe
        def on_upload(path, session_id, zoom_value, request: gr.Request, progress=gr.Progress()):
            return start(path, session_id, backend.owner_of(request), zoom_value, progress)

        @safe
        def on_example(path, session_id, zoom_value, request: gr.Request, progress=gr.Progress()):
            # the portraits open on their main face; the group photo asks which face
            return start(path, session_id, backend.owner_of(request), zoom_value, progress, pick=Path(path or "").name in SEVERAL_FACES)

        @safe
        def on_pick(held, zoom_value, request: gr.Request, evt: gr.SelectData, progress=gr.Progress()):
            if not held:
                return {}
            image, name, boxes = held
            scale = max(image.shape[:2]) / SCREEN if max(image.shape[:2]) > SCREEN else 1.0  # the picker shows the photo fitted
            x, y = evt.index[0] * scale, evt.index[1] * scale
            inside = [i for i, (x0, y0, x1, y1) in enumerate(boxes) if x0 <= x <= x1 and y0 <= y <= y1]
            if inside:
                index = inside[0]
            else:
                index = int(np.argmin([((x0 + x1) / 2 - x) ** 2 + ((y0 + y1) / 2 - y) ** 2 for x0, y0, x1, y1 in boxes]))
            return open_image(image, name, backend.owner_of(request), zoom_value, face_index=index, progress=progress)

        # -- chatting ---------------------------------------------------------------------------
        def busy():
            """Before a request runs: send and the box off, the typed text kept (a second message cannot vanish)."""
            return gr.update(interactive=False), gr.update(interactive=False)

        @safe
        def on_send(text, history, session_id, extra, zoom_value, reference_path, request: gr.Request, progress=gr.Progress()):
            owner = backend.owner_of(request)
            text = (text or "").strip()
            if not session_id:
                # the request stays in the box, to send once a photo is in
                return {
                    chat: say(
                        history,
                        None,
                        owner,
                        text,
                        "Upload a photo (or click an example photo) first: there is nothing to edit "
                        "yet. Your request stays in the box; press Send again once the photo is in.",
                    ),
                    status: "⚠️ Upload a photo first.",
                    message: gr.update(interactive=True),
                    send: gr.update(interactive=True),
                }
            if not text:
                return {message: gr.update(interactive=True), send: gr.update(interactive=True)}
            ed = backend.editor(session_id, owner)
            if reference_path:
                try:  # the same limits as a photo, before the request runs: a bad reference loses nothing
                    backend.service.read_photo(reference_path)
                except (ChatfaceError, OSError) as exc:
                    why = f"the reference photo cannot be used: {exc}"
                    return {
                        chat: say(
                            history,
                            session_id,
                            owner,
                            text,
                            f"That did not work: {why}. Nothing was changed; your request stays in the box.",
                        ),
                        status: f"⚠️ {why}",
                        message: gr.update(value=text, interactive=True),
                        send: gr.update(interactive=True),
                    }
            steps = [0]

            def stage(what: str) -> None:
                steps[0] += 1
                progress(min(0.95, 0.15 + 0.15 * steps[0]), desc=what)

            progress(0.1, desc="Reading the request")
            ed.on_stage = stage
            before = ed.head().seq
            try:
                # the reference is a file this server wrote (Gradio's upload), never a path a user typed
                reply = backend.chats.resume(session_id, owner=owner).send(text, reference=reference_path or None)
            except ChatfaceError as exc:
                return {
                    chat: say(history, session_id, owner, text, f"That did not work: {exc}. Nothing was changed."),
                    status: f"⚠️ {exc}",
                    message: gr.update(interactive=True),
                    send: gr.update(interactive=True),
                }
            finally:
                ed.on_stage = None
            plain = plain_reply(reply.text, reply.edits, attempts_of(session_id, owner, reply.edits))
            return {
                **view(session_id, owner, extra, zoom_value),
                message: gr.update(value="", interactive=True),
                chat: say(history, session_id, owner, text, in_page_words(plain.text), plain.details, pair=(before, ed.head().seq)),
            }

        # -- sliders ----------------------------------------------------------------------------
        def apply_slider(key, value, history, session_id, extra, zoom_value, owner, progress):
            """A slider's strength applied: an apply_attribute through the session tools, checked and stored like a chat turn."""
            ed = backend.editor(session_id, owner)
            progress(0.1, desc=f"Setting {amount_in_words(key, float(value))}")
            ed.on_stage = lambda what: progress(None, desc=what)
            tools = backend.service.toolkit(ed)
            before = ed.head().seq
            request_text = f"slider: {label(key)} {float(value):+.2f}"
            try:
                edits, concepts = _slider_edit(key, value)
                outcome = EditOutcome.from_artifact(tools.apply_attribute(edits, "set", request_text, concepts)[1])
            finally:
                ed.on_stage = None
            plain = plain_reply("", [outcome], attempts_of(session_id, owner, [outcome]))
            return {
                chat: say(
                    history,
                    session_id,
                    owner,
                    f"🎚 {amount_in_words(key, float(value))}",
                    plain.text,
                    plain.details,
                    pair=(before, ed.head().seq),
                ),
                **view(session_id, owner, extra, zoom_value),
            }

        def show_preview(key, value, session_id, zoom_value, owner, progress):
            """The slider's strength rendered and checked, shown beside the current version, nothing stored."""
            ed = backend.editor(session_id, owner)
            progress(0.1, desc=f"Previewing {amount_in_words(key, float(value))}")
            ed.on_stage = lambda what: progress(None, desc=what)
            tools = backend.service.toolkit(ed)
            try:
                edits, concepts = _slider_edit(key, value)
                seen = tools.preview(edits, "set", concepts)
            finally:
                ed.on_stage = None
            head = ed.head()
            box = ed.latent().meta.get("box")
            current = backend.image(ed, head)
            pair = (
                (_face_view(current, box), _face_view(seen.image, box))
                if zoom_value == FACE
                else (fit_within(current, SCREEN), fit_within(seen.image, SCREEN))
            )
            ev = seen.evaluation
            verdict = (
                ""
                if ev is None
                else (
                    " It still looks like the same person."
                    if ev.same_person and not ev.artefacts
                    else " Applied, the self-check would re-edit it: "
                    + ("; ".join(ev.artefacts.values()) if ev.artefacts else "the face no longer matches")
                    + "."
                )
            )
            note = " ".join(seen.not_done)
            return {
                compare: gr.update(value=pair, visible=True, label=f"Version {head.seq} | Preview (not applied)"),
                preview_actions: gr.update(visible=True),
                previewing: (key, float(value)),
                status: f"**Preview** (not applied): version {head.seq} | {state_in_words(specs(seen.state))}.{verdict} {note} "
                "Apply it, discard it, or move the slider again.",
            }

        def on_slider(index):
            @safe
            def moved(value, preview_on, history, session_id, extra, zoom_value, request: gr.Request, progress=gr.Progress()):
                if not session_id:
                    return {}
                owner = backend.owner_of(request)
                keys = _slider_keys(backend.editor(session_id, owner).head().state, extra)
                if index >= len(keys):
                    return {}
                if preview_on:
                    return show_preview(keys[index], value, session_id, zoom_value, owner, progress)
                return apply_slider(keys[index], value, history, session_id, extra, zoom_value, owner, progress)

            return moved

        @safe
        def on_apply_preview(held, history, session_id, extra, zoom_value, request: gr.Request, progress=gr.Progress()):
            if not held or not session_id:
                return {preview_actions: gr.update(visible=False)}
            return apply_slider(held[0], held[1], history, session_id, extra, zoom_value, backend.owner_of(request), progress)

        @safe
        def on_discard_preview(session_id, extra, zoom_value, request: gr.Request):
            return view(session_id, backend.owner_of(request), extra, zoom_value, note="Preview discarded: nothing was stored.")

        @safe
        def on_add(attribute, session_id, extra, zoom_value, request: gr.Request):
            if not attribute or not session_id:
                return {add: gr.update(value=None)}
            extra = [*extra, attribute] if attribute not in extra else list(extra)
            out = view(
                session_id,
                backend.owner_of(request),
                extra,
                zoom_value,
                note=f"Move the new **{people_label(attribute)}** slider to apply it.",
            )
            return {**out, add: gr.update(value=None, interactive=True)}

        # -- history ----------------------------------------------------------------------------
        def move(which, history, session_id, extra, zoom_value, request):
            if not session_id:
                return {status: "⚠️ Upload a photo first."}
            owner = backend.owner_of(request)
            tools = backend.tools(session_id, owner)
            before = tools.editor.head().seq
            text, artifact = getattr(tools, which)(1)
            move = MoveOutcome.from_artifact(artifact)
            user = {"undo": "↶ Undo", "redo": "↷ Redo"}[which]
            return {
                chat: say(history, session_id, owner, user, _moved(text, move), pair=(before, move.node_seq)),
                **view(session_id, owner, extra, zoom_value),
            }

        @safe
        def on_undo(history, session_id, extra, zoom_value, request: gr.Request):
            return move("undo", history, session_id, extra, zoom_value, request)

        @safe
        def on_redo(history, session_id, extra, zoom_value, request: gr.Request):
            return move("redo", history, session_id, extra, zoom_value, request)

        @safe
        def on_select(history, session_id, extra, zoom_value, request: gr.Request, evt: gr.SelectData):
            if not session_id:
                return {}
            owner = backend.owner_of(request)
            _, nodes = backend.service.tree(session_id, owner=owner)
            seq = nodes[evt.index].seq
            tools = backend.tools(session_id, owner)
            before = tools.editor.head().seq
            text, artifact = tools.checkout(seq)
            return {
                chat: say(
                    history,
                    session_id,
                    owner,
                    f"Go to version {seq}",
                    _moved(text, MoveOutcome.from_artifact(artifact)),
                    pair=(before, seq),
                ),
                **view(session_id, owner, extra, zoom_value),
            }

        @safe
        def on_zoom(zoom_value, session_id, extra, request: gr.Request):
            return view(session_id, backend.owner_of(request), extra, zoom_value) if session_id else {}

        every = [session, chat, pending, *view_outputs]

        def reopen(session_id, owner, zoom_value, note):
            return {
                session: session_id,
                chat: chat_lines(session_id, owner),
                pending: None,
                **view(session_id, owner, (), zoom_value, note=note, listing=True),
            }

        @safe
        def on_load(session_id, zoom_value, request: gr.Request):
            """A tab (re)opened: the session this tab holds (sessionStorage), from the database, with its conversation as shown."""
            owner = backend.owner_of(request)
            if not session_id:
                # the page is built in this state already; only the sessions list is this login's. Redrawing the rest
                # would overwrite a photo the user opened while the load was still queued.
                items, ids = your_sessions(owner)
                return {sessions_list: items, listed: ids}
            try:
                return reopen(session_id, owner, zoom_value, "Welcome back: this is where you left off.")
            except ChatfaceError:  # gone, or not this login's: the same answer, and the tab starts afresh
                return {session: "", chat: [], **view(None, owner)}

        @safe
        def on_reopen(ids, zoom_value, request: gr.Request, evt: gr.SelectData):
            return reopen(ids[evt.index], backend.owner_of(request), zoom_value, "Reopened from your sessions.")

        # the tab's stored id in, and afterwards the tab's id as this login may hold it (cleared when refused) back out
        shown_once: dict[str, Any] = {"show_progress_on": [status]}  # one progress bar, with the stage, in one place
        app.load(on_load, [session, zoom], every, js=READ_TAB_SESSION, **shown_once).then(None, [session], None, js=WRITE_TAB_SESSION)
        session.change(None, [session], None, js=WRITE_TAB_SESSION)
        # opening a photo (decode, find the face, invert, store) is the heaviest request: one at a time for everyone,
        # so a flood of big uploads cannot take every core from the people editing
        opening: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "open-photo", **shown_once}
        upload.upload(on_upload, [upload, session, zoom], every, **opening)
        example_photo.change(on_example, [example_photo, session, zoom], every, **opening)
        picker.select(on_pick, [pending, zoom], every, **opening)
        for trigger in (send.click, message.submit):
            trigger(busy, None, [message, send], queue=False).then(
                on_send, [message, chat, session, added, zoom, reference], every, **shown_once
            )
        undo.click(on_undo, [chat, session, added, zoom], every, **shown_once)
        redo.click(on_redo, [chat, session, added, zoom], every, **shown_once)
        gallery.select(on_select, [chat, session, added, zoom], every, **shown_once)
        sessions_list.select(on_reopen, [listed, zoom], every, **shown_once)
        zoom.change(on_zoom, [zoom, session, added], every, **shown_once)
        add.input(on_add, [add, session, added, zoom], every, **shown_once)
        for i, s in enumerate(sliders):
            s.release(on_slider(i), [s, preview_mode, chat, session, added, zoom], every, **shown_once)
        apply_preview.click(on_apply_preview, [previewing, chat, session, added, zoom], every, **shown_once)
        discard_preview.click(on_discard_preview, [session, added, zoom], every, **shown_once)
        gallery.change(None, None, None, js=SCROLL_TO_CURRENT)  # the current version in view, however long the history
    return app
