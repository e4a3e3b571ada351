"""The commands that work on sessions: edit, chat, demo, sessions, history, export."""

from __future__ import annotations

import json
from dataclasses import asdict
import re
import sys
import time
from pathlib import Path

from .wiring import chat_service, check_output, config_from, edit_service, face_note, open_photo, save_node

DEMO_TURNS = [
    "Hi! Can you give her a subtle smile and red lipstick?",
    "a bit more smile",
    "add glasses",  # the offline engine withdrew glasses: the reply says so and nothing changes
    "undo",
    "make her eyes a little bigger and add a touch of blush",
    "much more lipstick",
    "thanks, that's all",
]


def cmd_edit(args) -> int:
    out = check_output(args.output, args.force)
    if args.reference and not Path(args.reference).is_file():
        raise ValueError(f"{args.reference}: no such reference photo")
    agent = open_photo(chat_service(config_from(args)), args.photo)
    if args.reference:
        agent.attach_reference(args.reference)
    reply = agent.send(args.request)
    print(reply.text)
    note = face_note(agent, "use --face-index N to edit another (0 is the largest)")
    if note:
        print(note)
    sid = agent.editor.session_id
    if reply.head.seq == 0:  # a fresh session still at the original photo: nothing was applied
        print(f"session {sid}: nothing was applied, no file written", file=sys.stderr)
        return 1
    if reply.edits and not reply.visible_changes and not reply.removed:  # stored, but too weak to see or the wrong way
        print(f"session {sid}, node {reply.head.seq}: the change is too weak to see, no file written", file=sys.stderr)
        return 1
    save_node(agent, reply.head, out, overwrite=args.force)
    print(f"session {sid}, node {reply.head.seq}: wrote {out}")
    return 0


def cmd_chat(args) -> int:
    chats = chat_service(config_from(args))
    if args.session:
        agent = chats.resume(args.session, export_dir=Path(args.out_dir))  # with the engine that made the session
    elif args.photo:
        agent = open_photo(chats, args.photo, Path(args.out_dir))
    else:
        raise ValueError("give a photo, or --session ID to resume one")
    editor = agent.editor
    print(f"session {editor.session_id} (resume with: chatface chat --session {editor.session_id})")
    print(
        "Type a request; 'save FILE' writes the current image, 'which face?' and 'face N' pick a face, 'reference FILE' "
        "attaches a photo for 'like in this photo', 'quit' ends."
    )
    note = face_note(agent, SWITCH_FACE)
    if note:
        print(f"chatface> {note}")
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.lower() in ("quit", "exit", ":q"):
            return 0
        if line.lower().startswith("save "):
            try:
                out = check_output(line[5:].strip(), False)
            except ValueError as exc:
                print(f"chatface: error: {exc}", file=sys.stderr)
                continue
            save_node(agent, editor.head(), out)
            print(f"wrote {out}")
            continue
        if line.lower().startswith("reference "):
            try:
                print(f"chatface> reference attached: {agent.attach_reference(line[10:].strip())}")
            except Exception as exc:  # noqa: BLE001 - a bad file is said and the chat goes on
                print(f"chatface: error: {exc}", file=sys.stderr)
            continue
        asked = _face_command(line)
        if asked is not None:
            agent = _switch_face(chats, agent, args, asked)
            editor = agent.editor
            continue
        start = time.perf_counter()
        try:
            reply = agent.send(line)
        except Exception as exc:  # keep the conversation going on a failed turn
            from ..errors import ChatfaceError

            if isinstance(exc, ChatfaceError):
                print(f"chatface: error: {exc}", file=sys.stderr)
                continue
            raise
        print(f"chatface> {reply.text}  [{time.perf_counter() - start:.2f}s, node {reply.head.seq}]")


SWITCH_FACE = "say 'face N' to edit another (0 is the largest), 'which face?' to list them"
_WHICH = re.compile(r"^\s*(?:which|what) faces?\b.*\?*\s*$|^\s*faces\??\s*$", re.I)
_FACE_N = re.compile(r"^\s*(?:edit\s+|switch\s+to\s+|use\s+)?(?:the\s+)?face\s*(?:#|number\s+)?(\d+)\s*$", re.I)


def _face_command(line: str) -> int | None:
    """-1 for "which face?", N for "face N", None for anything else (a request for the planner)."""
    if _WHICH.match(line):
        return -1
    m = _FACE_N.match(line)
    return int(m.group(1)) if m else None


def _switch_face(chats, agent, args, asked: int):
    """Answer "which face?", or open the same photo again on face N (a new session: the old one stays)."""
    from ..tools.face_words import faces_listed, which_face

    meta = agent.editor.latent().meta
    listed = faces_listed(meta)
    if asked < 0 or len(listed) < 2:
        where = which_face(meta)
        print(
            "chatface> "
            + (
                "This photo has one face, and I am editing it."
                if len(listed) < 2
                else f"I am editing {where}. The faces: {'; '.join(listed)}. Say 'face N' to switch."
            )
        )
        return agent
    if asked >= len(listed):
        print(f"chatface> The photo has {len(listed)} faces (0 to {len(listed) - 1}); face {asked} is not one of them.")
        return agent
    if not args.photo:
        print("chatface> This session was resumed without its photo file: run chatface chat PHOTO --face-index N.")
        return agent
    new = chats.open_photo(args.photo, export_dir=agent.toolkit.export_dir, face_index=asked)
    print(
        f"chatface> Now editing {which_face(new.editor.latent().meta)}: a new session {new.editor.session_id} "
        f"(the previous one, {agent.editor.session_id}, keeps its edits)."
    )
    return new


def cmd_demo(args) -> int:
    from PIL import Image
    from skimage import data

    chats = chat_service(config_from(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo = out / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    t0 = time.perf_counter()
    agent = open_photo(chats, str(photo), out)
    sid = agent.editor.session_id
    save_node(agent, agent.editor.node(0), out / "before.png", overwrite=True)  # the demo's own folder: a rerun replaces it
    transcript = []
    for i, turn in enumerate(DEMO_TURNS, start=1):
        start = time.perf_counter()
        reply = agent.send(turn)
        dt = time.perf_counter() - start
        print(f"you> {turn}\nchatface> {reply.text}  [{dt:.2f}s]")
        save_node(agent, reply.head, out / f"turn{i:02d}.png", overwrite=True)
        transcript.append(
            {"user": turn, "reply": reply.text, "node": reply.head.seq, "state": reply.head.strengths(), "seconds": round(dt, 3)}
        )
    stored = chats.service.history(sid)
    save_node(agent, stored.head, out / "after.png", overwrite=True)
    history = {
        "session": sid,
        "head": stored.head.seq,
        "turns": transcript,
        "nodes": [
            {"seq": n.seq, "parent": parent, "action": n.action, "request": n.request, "state": n.state, "scores": n.scores}
            for n, parent, _ in _tree_rows(stored)
        ],
    }
    (out / "history.json").write_text(json.dumps(history, indent=2))
    print(
        f"wrote {out}/before.png, {out}/after.png, {out}/turnNN.png and {out}/history.json (session {sid}, {time.perf_counter() - t0:.1f}s)"
    )
    return 0


def _tree_rows(stored):
    """(node, its parent's node number or "-", is current) of a stored session: node numbers, never database ids."""
    from ..tools.edit_state import tree_rows

    return tree_rows(stored.nodes, stored.head.id)


def cmd_sessions(args) -> int:
    service = edit_service(config_from(args))
    if args.delete:
        service.delete_session(args.delete, owner="local")
        print(f"deleted session {args.delete}")
        return 0
    rows = service.sessions(owner="local")
    if not rows:
        print("no sessions yet")
    for s, head in rows:
        print(f"{s.id}  {s.updated_at[:19]}  {s.engine:8s} node {head.seq:3d}  {s.title}")
    return 0


def cmd_history(args) -> int:
    from ..tools.edit_state import describe

    stored = edit_service(config_from(args)).history(args.session, owner="local")
    info, head = stored.info, stored.head
    if args.json:
        nodes = [
            {
                "node": n.seq,
                "parent": parent,
                "current": current,
                "action": n.action,
                "request": n.request,
                "state": n.state,
                "scores": n.scores,
            }
            for n, parent, current in _tree_rows(stored)
        ]
        print(
            json.dumps(
                {"session": info.id, "head": head.seq, "nodes": nodes, "messages": [asdict(m) for m in stored.messages]},
                indent=2,
                default=str,
            )
        )
        return 0
    print(f"session {info.id}: {info.source_name} ({info.engine})")
    for n, parent, is_head in _tree_rows(stored):
        mark = "*" if is_head else " "
        ident = n.identity
        extra = f"  identity {ident:.3f}" if ident is not None else ""
        print(f"{mark} {n.seq:3d} <- {parent!s:>3}  {n.action:8s} {describe(n.state)}{extra}  {n.request[:60]!r}")
    return 0


def cmd_export(args) -> int:
    out = check_output(args.output, args.force)
    edit_service(config_from(args)).export_node(args.session, args.node, out, owner="local", overwrite=args.force)
    print(f"wrote {out}")
    return 0
