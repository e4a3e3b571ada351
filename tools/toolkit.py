"""The tools of one session: plain typed functions, and the same as LangChain tools.

A SessionToolkit is bound to one SessionEditor (one session of one owner) and
an export directory; no argument of any tool can name another session or a
path outside that directory. Every tool returns a short text for the model and
a structured artifact for the graph (the self-check reads it). Bad arguments
and bad input come back as error messages the model can act on, never as a
crash of the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from pydantic import BaseModel, ValidationError

from ..errors import ChatfaceError
from ..models.base import NoFaceError, concept_text, style_digest
from .capabilities import refusal
from .face_words import which_face
from .edit_state import EditContext, Version, apply_changes, describe, redo_moves, specs, strengths, tree_rows
from .editor import Evaluation, SessionEditor
from .results import ApplyReferenceOutcome, EditOutcome, MoveOutcome
from .schemas import (
    ApplyAttributeArgs,
    ApplyReferenceArgs,
    AttributeEdit,
    CheckoutArgs,
    ExportArgs,
    HistoryArgs,
    InvertArgs,
    RedoArgs,
    ResetArgs,
    TextConcept,
    UndoArgs,
    VerifyIdentityArgs,
)
from .selfcheck import run_self_check
from .vocabulary import label, text_key


class ToolError(ChatfaceError):
    """An error the model should read and act on."""


def _doable(wanted: dict, current: dict, unsupported) -> dict:
    """``wanted`` with what the engine cannot do kept as the photo has it now (the rest is done)."""
    state = dict(wanted)
    for a in unsupported:
        if a in current:
            state[a] = current[a]
        else:
            state.pop(a, None)
    return state


def unsupported_message(engine: str, unsupported: dict[str, str], signs: dict[str, float]) -> str:
    """ "Not applied: bigger eyes: the offline engine cannot do it; the ledits engine does it (--engine ledits; ...)."."""
    what = "; ".join(
        refusal(a, signs.get(a, 1.0), engine, why)
        if concept_text(a) is None and style_digest(a) is None
        else f"the {engine} engine cannot do {label(a)} ({why})"
        for a, why in unsupported.items()
    )
    return f"Not applied: {what}."


def _scores_text(scores: dict) -> str:
    if not scores:
        return ""
    parts = [
        f"identity {scores['identity']:.3f} (distance {scores['identity_distance']:.3f}, "
        f"{'same person' if scores['same_person'] else 'IDENTITY CHECK FAILED'})"
    ]
    for a, d in scores.get("direction", {}).items():
        parts.append(f"{label(a)} direction {d:+.2f}{'' if scores['direction_ok'].get(a) else ' (too weak)'}")
    realism = scores.get("realism")
    if realism:
        parts.append("looks like a photograph" if realism["ok"] else "realism: " + "; ".join(realism["problems"].values()))
    return "; ".join(parts)


def _at_limit(state: dict, changes: list[tuple[str, float, int | None]], mode: str) -> list[str]:
    """ "a lot more smile" at +1.00: the value cannot go further, and the user is told."""
    out = []
    for key, strength, _ in changes:
        current = float(state.get(key, {}).get("strength", 0.0))
        asked = current + strength if mode == "change" else strength
        if abs(asked) > 1.0 + 1e-9:
            limit = 1.0 if asked > 0 else -1.0
            out.append(
                f"{label(key)} is at its limit ({limit:+.2f})"
                + (" already" if current == limit else "")
                + f"; it cannot go to {asked:+.2f}."
            )
    return out


def _asked(state: dict, changed: list[str]) -> dict[str, float]:
    """The strengths a request asked for, of the attributes it set or changed (0 for one it removed)."""
    return {a: float(state[a]["strength"]) if a in state else 0.0 for a in changed}


def _outcome(seq: int, state: dict, ev: Evaluation) -> str:
    """The first words about a rendered edit: "Applied" only when the change is visible and passed its direction check."""
    weak = [a for a, ok in ev.direction_ok.items() if not ok]
    if not ev.applied:
        what = ", ".join(weak) if weak else "the"
        return (
            f"Not visible: {what} change is too weak to see in this photo; it is stored as history node {seq} "
            f"({describe(state)}), so it can be undone or made stronger."
        )
    if ev.artefacts:
        return (
            f"Stored as history node {seq} ({describe(state)}), but it does not look like a photograph: {'; '.join(ev.artefacts.values())}."
        )
    if not ev.same_person:
        return f"Stored as history node {seq} ({describe(state)}), but the face no longer matches the original."
    return f"Applied (history node {seq}): now {describe(state)}."


@dataclass(frozen=True)
class Preview:
    """An edit rendered and checked but not stored (the web page's preview of a slider): what it would look like."""

    image: object  # the rendered photo (numpy RGB uint8)
    state: dict  # the edit state it shows
    evaluation: Evaluation | None  # its checks (None: nothing changed)
    not_done: list[str]  # what of the request the engine cannot do, in words


class SessionToolkit:
    """``reference_dirs``: where apply_reference may read a reference photo by path (None: anywhere, for the local
    command line; a server passes its allowed folders); ``reference``: the photo attached to this turn, if any."""

    def __init__(
        self,
        editor: SessionEditor,
        export_dir: str | Path | None = None,
        *,
        reference_dirs: Sequence[str | Path] | None = (),
        reference: str | None = None,
    ) -> None:
        self.editor = editor
        self.export_dir = Path(export_dir).resolve() if export_dir else None
        self.reference_dirs = reference_dirs
        self.reference = reference

    # -- the tools, as plain typed functions --------------------------------
    def invert(self) -> tuple[str, dict]:
        """Invert the session's photo (once; later calls reuse the stored inversion)."""
        lat = self.editor.latent()
        box = lat.meta.get("box")
        text = (
            " It accepts free-text concepts (apply_attribute's 'concepts') for what the vocabulary lacks."
            if self.editor.accepts_text
            else ""
        )
        which = which_face(lat.meta)
        where = f"{which} (face_index {lat.meta.get('face_index', 0)}), at {box}" if which else f"face at {box}"
        return (
            f"The photo is inverted and ready ({lat.engine} engine, {where}).{text}",
            {"tool": "invert", "engine": lat.engine, "box": box, "free_text": self.editor.accepts_text},
        )

    def apply_attribute(
        self,
        edits: Sequence[AttributeEdit] = (),
        mode: str = "set",
        request: str = "",
        concepts: Sequence[TextConcept] = (),
        *,
        colours: dict[str, str] | None = None,
    ) -> tuple[str, dict]:
        """Set or change attributes (and free-text concepts, where the engine accepts text); renders, checks (re-editing
        when a check fails) and stores the result as a new history node."""
        ed = self.editor
        head = ed.head()
        changes = [(e.attribute, e.strength, e.t_edit) for e in edits] + [(text_key(c.text), c.strength, c.t_edit) for c in concepts]
        wanted = apply_changes(head.state, changes, mode, t_edit_defaults=ed.t_edit_defaults(k for k, _, _ in changes), colours=colours)
        changed = {a for a in set(wanted) | set(head.state) if wanted.get(a) != head.state.get(a)}
        unsupported = {a: why for a, why in ed.unsupported(wanted).items() if a in changed}
        state = _doable(wanted, head.state, unsupported)
        # What was not done opens the reply: unsupported parts, values already at their limit.
        signs = {a: float(wanted[a]["strength"]) for a in unsupported}  # only a strength other than 0 can be refused
        not_done = [unsupported_message(ed.engine_name, unsupported, signs)] if unsupported else []
        not_done += _at_limit(head.state, changes, mode)
        if state == head.state:
            msg = " ".join(not_done) or "Nothing was changed."
            return msg + (" Tell the user." if not_done else ""), EditOutcome(
                head.seq,
                specs(head.state),
                specs(head.state),
                [],
                applied=False,
                passed=True,
                unsupported=unsupported,
                not_done=not_done,
                request=request,
            ).artifact()
        if not ed.render_images:
            node = ed.commit(action="edit", request=request, state=state, image=None, evaluation=None, expected_head=head.id)
            text = " ".join(
                [*not_done, f"Recorded (history node {node.seq}, not rendered: this session records edits only): now {describe(state)}."]
            )
            done = sorted(changed - set(unsupported))
            return text, EditOutcome(
                node.seq,
                specs(state),
                specs(head.state),
                done,
                applied=True,
                passed=True,
                visible_changes=done,
                unsupported=unsupported,
                not_done=not_done,
                node_id=node.id,
                request=request,
                asked=_asked(state, done),
            ).artifact()

        done = sorted(changed - set(unsupported))
        asked = _asked(state, done)

        # render, check and re-edit first; then one commit of the kept result, all its attempts and the new head,
        # refused (nothing stored) when another client moved the head meanwhile
        def checked_edit():
            image = ed.render(state)
            evaluation = ed.evaluate(image, state, head.state)
            result = run_self_check(ed, state, image, head.state, evaluation, done, ed.thresholds.max_attempts)
            return result, ed.commit_checked(action="edit", request=request, result=result, expected_head=head.id)

        result, node = ed.work(checked_edit)
        state, evaluation = result.kept_state, result.evaluation
        outcome = _outcome(node.seq, state, evaluation)
        how = [f"{label(a)}: by {way}." for a in done if (way := ed.engine.generator.edited_by(a))]
        text = " ".join([*not_done, outcome, *how, f"Check: {_scores_text(node.scores)}.", *([result.note] if result.note else [])])
        if not_done:
            text += " Tell the user."
        return text, EditOutcome(
            node.seq,
            specs(state),
            specs(head.state),
            done,
            applied=evaluation.applied,
            passed=evaluation.passed,
            visible_changes=evaluation.visible_changes,
            removed=[a for a in done if a not in state],
            scores=evaluation,
            unsupported=unsupported,
            not_done=not_done,
            self_check=result.note,
            self_check_reason=result.reason,
            attempts=result.attempts,
            node_id=node.id,
            request=request,
            asked=asked,
        ).artifact()

    def preview(self, edits: Sequence[AttributeEdit] = (), mode: str = "set", concepts: Sequence[TextConcept] = ()) -> Preview:
        """What ``apply_attribute`` would render first, and its checks, without storing anything or re-editing: a
        person can look before choosing to apply it. Not a tool for planners (it changes nothing)."""
        ed = self.editor
        if not ed.render_images:
            raise ToolError("this session records edits without rendering them, so there is nothing to preview")
        head = ed.head()
        changes = [(e.attribute, e.strength, e.t_edit) for e in edits] + [(text_key(c.text), c.strength, c.t_edit) for c in concepts]
        state = apply_changes(head.state, changes, mode, t_edit_defaults=ed.t_edit_defaults(k for k, _, _ in changes))
        unsupported = ed.unsupported(state)
        signs = {a: float(state[a]["strength"]) for a in unsupported}
        state = _doable(state, head.state, unsupported)
        not_done = [unsupported_message(ed.engine_name, unsupported, signs)] if unsupported else []
        if state == head.state:
            return Preview(ed.image_of(head), dict(state), None, not_done)
        image = ed.work(lambda: ed.render(state))
        return Preview(image, dict(state), ed.evaluate(image, state, head.state), not_done)

    def apply_reference(
        self,
        reference: str | None = None,
        take: Sequence[str] = (),
        request: str = "",
        reference_base64: str | None = None,
        style_strength: float = 0.6,
    ) -> tuple[str, dict]:
        """Take attributes from a reference photo of another person: for each named attribute, the strength that shows
        as much of it on this face as the reference shows (measured on both faces), and where the engine paints a colour
        (the offline lipstick), the reference's colour; "style", the reference's look as a whole, where the engine takes
        one (the diffusion engine's h-space content injection), at ``style_strength``. Then applied, checked and stored
        as apply_attribute does, the reference stored with the node."""
        import base64

        from ..models.images import decode_image_bytes, load_image
        from .reference import ReferenceReading, read_reference
        from .service import allowed_path
        from .vocabulary import default_vocabulary

        vocab = default_vocabulary()
        unknown = [a for a in take if a not in vocab.ids() and a != "style"]
        if unknown:
            raise ToolError(f"unknown attribute(s) {', '.join(map(repr, unknown))}; take attribute ids such as 'smiling', 'lipstick'")
        if reference_base64 is not None:
            try:
                data = base64.b64decode(reference_base64, validate=True)
            except ValueError:
                raise ToolError("reference_base64 is not valid base64") from None
            image = decode_image_bytes(data, "the reference photo")
        else:
            path = reference or self.reference
            if path is None:
                raise ToolError("no reference photo: attach one (a path, base64, or an upload) and ask again")
            if self.reference_dirs is not None:
                path = str(allowed_path(path, self.reference_dirs))
            image = load_image(path)
        named = [a for a in take if a != "style"]
        style_key, style_notes = self._style_of(image) if "style" in take else (None, [])
        reading = self.editor.work(lambda: read_reference(self.editor, image, named)) if named else ReferenceReading({})
        reading = replace(reading, notes=[*style_notes, *reading.notes])
        if style_key is not None:
            reading = replace(reading, strengths={**reading.strengths, style_key: round(float(style_strength), 2)})
        if not reading.strengths:
            return "Nothing taken from the reference: " + "; ".join(n for n in reading.notes) + ".", ApplyReferenceOutcome(
                {}, {}, list(reading.notes), reading.measured
            ).artifact()
        edits = [AttributeEdit(attribute=a, strength=s) for a, s in reading.strengths.items()]
        text, artifact = self.apply_attribute(edits, "set", request or "reference photo: " + ", ".join(take), colours=reading.colours)
        outcome = replace(EditOutcome.from_artifact(artifact), from_reference=list(reading.strengths), reference_notes=list(reading.notes))
        taken = ", ".join(
            f"{label(a)} {s:+.2f}" + (f" in the reference's colour {reading.colours[a]}" if a in reading.colours else "")
            for a, s in reading.strengths.items()
            if a != style_key
        )
        parts = [f"{taken} (as much as the reference shows, measured on both faces)"] if taken else []
        if style_key is not None:
            parts.append(f"its style at {reading.strengths[style_key]:.2f} (its look, with this face's content injected in h-space)")
        intro = "From the reference: " + "; ".join(parts) + "."
        if reading.notes:
            intro += " Not taken: " + "; ".join(reading.notes) + "."
        return f"{intro} {text}", outcome.artifact()

    def _style_of(self, image) -> tuple[str | None, list[str]]:
        """The edit-state key of the reference's style, its photo stored with the session; or None and why not."""
        from ..models.faces.detection import find_face

        ed = self.editor
        if not ed.render_images or not ed.engine.generator.takes_style:
            return None, [
                f"style: the {ed.engine_name} engine cannot take a style from a reference photo; "
                "the diffusion engine does (--engine diffusion)"
            ]
        try:
            find_face(image, 0)
        except NoFaceError:
            raise ToolError("the reference photo shows no face to take a style from") from None
        return ed.store_reference(image), []

    def verify_identity(self, node: int | None = None) -> tuple[str, dict]:
        """Compare the face of a history node (default: current) with the original photo."""
        ed = self.editor
        if not ed.render_images:
            raise ToolError("this session records edits without rendering them, so there is no face to verify")
        n = ed.node(node)
        ident = ed.engine.identity.score(ed.source, ed.image_of(n), ed.latent())
        verdict = "the same person" if ident.same_person else "NOT recognised as the same person"
        return (
            f"Node {n.seq}: identity similarity {ident.similarity:.3f}, distance {ident.distance:.3f}: {verdict}.",
            {
                "tool": "verify_identity",
                "node_seq": n.seq,
                "similarity": ident.similarity,
                "distance": ident.distance,
                "same_person": ident.same_person,
            },
        )

    def undo(self, steps: int = 1) -> tuple[str, dict]:
        """Go back ``steps`` edits."""
        node, moved = self.editor.store.undo(self.editor.session_id, steps, owner=self.editor.owner)
        text = (
            f"Went back {moved} step(s) to node {node.seq}: {describe(node.state)}."
            if moved
            else "Nothing to undo: this is the original photo."
        )
        return text, MoveOutcome("undo", node.seq, moved, specs(node.state)).artifact()

    def redo(self, steps: int = 1) -> tuple[str, dict]:
        """Re-apply edits that were undone."""
        node, moved = self.editor.store.redo(self.editor.session_id, steps, owner=self.editor.owner)
        text = f"Re-applied {moved} step(s), now node {node.seq}: {describe(node.state)}." if moved else "Nothing to redo."
        return text, MoveOutcome("redo", node.seq, moved, specs(node.state)).artifact()

    def checkout(self, node: int) -> tuple[str, dict]:
        """Go to history node ``node`` (an earlier version); the other nodes stay, so redo and later checkouts still reach them."""
        before = self.editor.head()
        n = self.editor.store.checkout(self.editor.session_id, node, owner=self.editor.owner)
        if n.id == before.id:
            return f"Node {n.seq} is already the current one: {describe(n.state)}.", MoveOutcome(
                "checkout", n.seq, 0, specs(n.state)
            ).artifact()
        return f"Went to node {n.seq}: {describe(n.state)}.", MoveOutcome("checkout", n.seq, 1, specs(n.state)).artifact()

    def reset(self) -> tuple[str, dict]:
        """Back to the original photo (as a new history node, so it can be undone)."""
        head = self.editor.head()
        if not head.state:
            return "The photo is already the original.", MoveOutcome("reset", head.seq, 0, {}).artifact()
        node = self.editor.commit_reset("reset")
        return f"Reset to the original photo (node {node.seq}).", MoveOutcome("reset", node.seq, 1, {}).artifact()

    def history(self) -> tuple[str, dict]:
        """The edit tree of this session, with the current node marked."""
        ed = self.editor
        head = ed.head()
        nodes = ed.store.nodes(ed.session_id, owner=ed.owner)
        lines = [
            f"{'*' if is_head else ' '} node {n.seq} (parent {parent}) {n.action}: {describe(n.state)}"
            for n, parent, is_head in tree_rows(nodes, head.id)
        ]
        return "\n".join(lines), {
            "tool": "history",
            "head_seq": head.seq,
            "nodes": [
                {"seq": n.seq, "parent_id": n.parent_id, "id": n.id, "action": n.action, "state": n.state, "scores": n.scores}
                for n in nodes
            ],
        }

    def export(self, filename: str, node: int | None = None) -> tuple[str, dict]:
        """Write a history node's image into the export directory."""
        if self.export_dir is None:
            raise ToolError("exporting is not enabled for this session")
        filename = ExportArgs(filename=filename, node=node).filename  # the same rules for every caller (no control characters)
        name = Path(filename)
        if name.name != filename or filename in (".", ".."):
            raise ToolError("give a plain file name, not a path: files are written into the export directory only")
        if name.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise ToolError("the file name must end in .png, .jpg or .jpeg")
        target = (self.export_dir / name).resolve()
        if target.parent != self.export_dir:
            raise ToolError("the file must be inside the export directory")
        n = self.editor.node(node)
        from ..models.images import save_image

        self.export_dir.mkdir(parents=True, exist_ok=True)
        try:
            save_image(self.editor.image_of(n), target)  # whole or not at all, and never over a file that exists
        except FileExistsError:
            raise ToolError(f"{filename} exists already; choose another name") from None
        return f"Saved node {n.seq} to {target}.", {"tool": "export", "node_seq": n.seq, "path": str(target)}

    # -- what a planner knows of the session -----------------------------------
    def context(self) -> EditContext:
        """The session's edit state, what the last edit changed, and every version (node) with its state."""
        ed = self.editor
        session, head, nodes = ed.store.tree(ed.session_id, owner=ed.owner)  # one read: head, nodes and redo pointer agree
        parent = next((n for n in nodes if n.id == head.parent_id), None)
        # what the current node's edit set or changed ("more" and "less" refer to these)
        last = sorted(a for a in head.state if parent is not None and head.state[a] != parent.state.get(a))
        removed = sorted(a for a in (parent.state if parent is not None else {}) if a not in head.state)
        redoable = redo_moves(head, nodes, session.redo_node_id)
        return EditContext(
            strengths=strengths(head.state),
            last_changed=tuple(last),
            head=head.seq,
            versions=tuple(Version(n.seq, n.action, strengths(n.state)) for n in nodes),
            free_text=ed.accepts_text,
            engine=ed.engine_name,
            offers=ed.offers(),
            reference=self.reference is not None,
            removed_last=tuple(removed),
            redoable=redoable,
        )

    # -- the tool surface: one list that the LangChain tools and the MCP server are both made from ----------------
    SPECS: tuple[tuple[str, type[BaseModel]], ...] = (
        ("invert", InvertArgs),
        ("apply_attribute", ApplyAttributeArgs),
        ("apply_reference", ApplyReferenceArgs),
        ("verify_identity", VerifyIdentityArgs),
        ("undo", UndoArgs),
        ("redo", RedoArgs),
        ("checkout", CheckoutArgs),
        ("reset", ResetArgs),
        ("history", HistoryArgs),
        ("export", ExportArgs),
    )

    def call(self, name: str, args: dict) -> tuple[str, dict]:
        """Run tool ``name`` on ``args`` (a dict as a foreign client sends it), validated by the tool's own schema;
        bad arguments raise ToolError with the message a model can act on."""
        schema = dict(self.SPECS).get(name)
        if schema is None:
            raise ToolError(f"no tool {name!r}; the tools are {', '.join(n for n, _ in self.SPECS)}")
        try:
            parsed = schema.model_validate(args)
        except ValidationError as exc:
            raise ToolError(_validation_message(exc).removeprefix("Error: ")) from None
        return getattr(self, name)(**{k: getattr(parsed, k) for k in schema.model_fields})

    def langchain_tools(self, engine: str | None = None) -> list:
        """The tools as LangChain StructuredTools; ``engine`` (default: this session's) names its edits in apply_attribute's description."""
        if engine is None and self.editor.render_images:
            engine = self.editor.engine_name
        return _structured_tools({name: getattr(self, name) for name, _ in self.SPECS}, engine)

    @classmethod
    def unbound_tools(cls, engine: str | None = None) -> list:
        """The same tools' names, descriptions and schemas, bound to no session: what a model is told it may call (the
        calls then run on the run's own session's toolkit). Calling one of these is a ToolException."""

        def unbound(name: str):
            def refuse(**_: object) -> None:
                raise ToolError(f"{name} is not bound to a session; call it on a session's toolkit")

            return refuse

        return _structured_tools({name: unbound(name) for name, _ in cls.SPECS}, engine)


def _structured_tools(funcs: dict, engine: str | None) -> list:
    from langchain_core.tools import StructuredTool

    return [
        StructuredTool.from_function(
            func=_guarded(funcs[name]),
            name=name,
            description=tool_description(name, engine),
            args_schema=schema,
            response_format="content_and_artifact",
            handle_tool_error=True,
            handle_validation_error=_validation_message,
        )
        for name, schema in SessionToolkit.SPECS
    ]


def tool_description(name: str, engine: str | None = None) -> str:
    """The tool's description as every client sees it: its function's docstring, and for apply_attribute the edits
    that ``engine`` does (its offers), so a client's model suggests only those."""
    text = " ".join((getattr(SessionToolkit, name).__doc__ or name).split())  # one line, as written in the docstring
    if name != "apply_attribute" or engine is None:
        return text
    from .capabilities import engine_offers

    offers = "; ".join(f"{o.label} ({o.attribute} {'+' if o.sign > 0 else '-'})" for o in engine_offers(engine))
    return f"{text} The {engine} engine does: {offers}. Anything else is refused, and the reply names the engine that does it."


def _validation_message(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "Error: invalid arguments: " + "; ".join(problems) + ". Fix the arguments and call the tool again."


def _guarded(fn):
    """Turn bad input and model errors into ToolException, which LangChain hands back to the model."""
    import functools

    from langchain_core.tools import ToolException

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ChatfaceError, ValueError) as exc:  # a tool error, a model's, the memory's (no node, the head moved)
            raise ToolException(f"Error: {exc}") from exc

    return wrapper
