"""The ``chatface`` command line: edit, chat, demo, sessions, history, export, eval.

Parsing and help never import torch or load a model: everything heavy is
imported inside the command that needs it. Errors are one line on stderr and
a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DEMO_TURNS = [
    "Hi! Can you give her a subtle smile and red lipstick?",
    "a bit more smile",
    "add glasses",  # the offline engine withdrew glasses: the reply says so and nothing changes
    "undo",
    "much more lipstick",
    "thanks, that's all",
]


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["offline", "diffusion", "ledits"], default=None,
                   help="image engine: offline, diffusion (Asyrp / trained h-space networks) or ledits (LEDITS++, text-driven; "
                        "default: offline, or CHATFACE_ENGINE)")
    p.add_argument("--planner", choices=["offline", "openai"], default=None, help="planner (default: offline, or CHATFACE_PLANNER)")
    p.add_argument("--model", default=None, help="LLM name for --planner openai (or CHATFACE_MODEL)")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: CHATFACE_DATABASE_URL or a SQLite file in the user data dir)")
    p.add_argument("--face-index", type=int, default=0, help="which face to edit when there are several (0 = largest)")
    _engine_options(p)


def _engine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("diffusion engine")
    g.add_argument("--models", default=None, help="models directory (unet/, mappings/, clip/, arcface.onnx), e.g. from 'models make-tiny'; or CHATFACE_MODELS")
    g.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    g.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default=None, help="precision (default: float16 on cuda, float32 on cpu)")
    g.add_argument("--steps", type=int, default=None, help="DDIM steps for inversion and editing (default: the models folder's own, 40 for Asyrp's networks, else 20)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatface", description="Chat-guided editing of real face photos.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("edit", help="edit a photo with one request")
    p.add_argument("photo")
    p.add_argument("request")
    p.add_argument("-o", "--output", required=True, help="where to write the edited photo (PNG or JPEG)")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    _common(p)

    p = sub.add_parser("chat", help="chat about a photo, turn by turn (or resume a session)")
    p.add_argument("photo", nargs="?")
    p.add_argument("--session", help="resume this session id")
    p.add_argument("--out-dir", default=".", help="where 'export' writes files (default: current directory)")
    _common(p)

    p = sub.add_parser("demo", help="run a scripted conversation on scikit-image's astronaut photo")
    p.add_argument("--out", default="chatface-demo", help="output directory (default: ./chatface-demo)")
    _common(p)

    p = sub.add_parser("sessions", help="list stored sessions (or delete one)")
    p.add_argument("--delete", metavar="ID", default=None, help="delete this session with its history")
    p.add_argument("--database-url", default=None)

    p = sub.add_parser("users", help="the users of a server (web app, MCP over HTTP): passwords and bearer tokens")
    us = p.add_subparsers(dest="users_command", required=True)
    q = us.add_parser("add", help="add a user (the password is asked for, or read from stdin)")
    q.add_argument("name")
    q.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    q.add_argument("--database-url", default=None)
    q = us.add_parser("list", help="list users with their live tokens and sessions")
    q.add_argument("--database-url", default=None)
    q = us.add_parser("remove", help="remove a user and their tokens")
    q.add_argument("name")
    q.add_argument("--delete-sessions", action="store_true", help="also delete the sessions they own")
    q.add_argument("--database-url", default=None)
    q = us.add_parser("token", help="print a new bearer token for a user (shown once), or revoke their tokens")
    q.add_argument("name")
    q.add_argument("--label", default="", help="what the token is for (shown in 'users list')")
    q.add_argument("--revoke", action="store_true", help="revoke every live token of the user instead")
    q.add_argument("--database-url", default=None)

    p = sub.add_parser("history", help="show a session's edit tree and conversation")
    p.add_argument("session")
    p.add_argument("--json", action="store_true")
    p.add_argument("--database-url", default=None)

    p = sub.add_parser("export", help="write the image of a history node")
    p.add_argument("session")
    p.add_argument("node", type=int)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--force", action="store_true")
    p.add_argument("--database-url", default=None)

    p = sub.add_parser("eval", help="evaluate planners on dialogue sets, or an engine's edits on photos")
    ev = p.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    q = ev.add_parser("intents", help="replay a dialogue set (shared/spec/intents.md format) through the agent and score it")
    q.add_argument("dialogues", nargs="?", default=None, help="JSONL dialogue set (default: the bundled development set)")
    q.add_argument("--planner", choices=["offline", "openai"], default=None, help="planner to evaluate (default: offline)")
    q.add_argument("--model", default=None, help="LLM name for --planner openai (or CHATFACE_MODEL)")
    q.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint (or OPENAI_BASE_URL)")
    q.add_argument("--out", required=True, help="directory for report.json, predictions.jsonl, report.md and plots")
    q.add_argument("--limit", type=int, default=None, help="only the first N dialogues")
    q.add_argument("--no-embeddings", action="store_true", help="offline planner without the sentence-embedding fallback")
    q.add_argument("--no-progress", action="store_true")
    q = ev.add_parser("edits", help="score an engine's edits per attribute and strength on a folder of photos")
    q.add_argument("photos", help="a folder of photos, or one photo")
    q.add_argument("--attributes", required=True, help="comma-separated ids; a leading '-' means the negative direction (-age = younger)")
    q.add_argument("--strengths", default="0.3,0.6,0.9", help="comma-separated magnitudes in (0, 1] (default: 0.3,0.6,0.9)")
    q.add_argument("--engine", choices=["offline", "diffusion", "ledits"], default=None)
    q.add_argument("--out", required=True)
    q.add_argument("--no-progress", action="store_true")
    _engine_options(q)

    p = sub.add_parser("mcp", help="serve the tools over the Model Context Protocol (stdio or streamable HTTP)")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--allow-dir", action="append", default=None, help="a directory whose photos clients may name by path (repeatable; default: the current directory)")
    p.add_argument("--export-dir", default=None, help="where the export tool writes (default: no exports)")
    p.add_argument("--owner", default="local", help="without users: owner of the sessions this server opens (a client can attach only to these)")
    p.add_argument("--no-auth", action="store_true", help="serve a non-loopback address without users (prints a warning)")
    _ray_options(p)
    _common(p)

    p = sub.add_parser("serve", help="the web app (Gradio) on 127.0.0.1: upload, chat, history gallery, undo/redo, download")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--owner", default="web", help="without users: owner of the sessions the app opens")
    p.add_argument("--no-auth", action="store_true", help="serve a non-loopback address without users (prints a warning)")
    p.add_argument("--trusted-header", default=None, metavar="HEADER",
                   help="take the user from this request header set by an authenticating reverse proxy (e.g. X-Forwarded-User); "
                        "only behind a proxy that always sets it")
    _ray_options(p)
    _common(p)

    p = sub.add_parser("tools", help="print the tool definitions for function-calling clients")
    p.add_argument("--format", choices=["openai", "json-schema"], default="openai")

    p = sub.add_parser("models", help="diffusion engine models: fetch the real ones, make tiny random ones, list what a directory holds")
    mv = p.add_subparsers(dest="models_command", required=True, metavar="WHAT")
    q = mv.add_parser("make-tiny", help="write random-weight models of every real architecture (meaningless edits, real plumbing)")
    q.add_argument("dir")
    q.add_argument("--engine", choices=["diffusion", "ledits"], default="diffusion",
                   help="diffusion: U-Net, mapping networks, CLIP, ArcFace; ledits: a Stable Diffusion pipeline, CLIP, ArcFace")
    q.add_argument("--seed", type=int, default=0)
    q = mv.add_parser("fetch", help="download, check and convert real weights into a models directory")
    q.add_argument("what", choices=["asyrp"], help="asyrp: SDEdit's CelebA-HQ U-Net and Asyrp's published h-space networks")
    q.add_argument("--dest", required=True, help="the models directory to write (then use --models DEST or CHATFACE_MODELS=DEST)")
    q.add_argument("--from", dest="source", default=None,
                   help="a folder or base URL holding celeba_hq.ckpt and checkpoint/<file>.pth, instead of the hub and GitHub")
    q.add_argument("--attributes", default=None, help="comma-separated networks or attributes (default: all nine face networks)")
    q.add_argument("--resolution", type=int, default=256, help="the U-Net's sample size (default 256)")
    q.add_argument("--no-arcface", action="store_true", help="do not put ArcFace (insightface's buffalo_l) into DEST")
    q.add_argument("--no-progress", action="store_true")
    q = mv.add_parser("list", help="show where each part of the diffusion engine would load from, and the trained attributes")
    q.add_argument("--models", default=None)

    p = sub.add_parser("train-direction", help="train an attribute's mapping network (CLIP direction + ArcFace identity + L1 losses)")
    p.add_argument("attribute")
    p.add_argument("--images", required=True, help="folder of face photos to train on")
    p.add_argument("--out", required=True, help="where the mapping network, checkpoints and log go (e.g. MODELS/mappings)")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--t-edit", type=int, default=None, help="edit steps t >= T_EDIT (default: the attribute's default)")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--no-progress", action="store_true")
    _engine_options(p)
    return parser


# -- wiring: every command builds one Configuration and goes through the one factory ----------------
def _ray_options(p) -> None:
    g = p.add_argument_group("engines on a Ray cluster (pip install -e \".[ray]\")")
    g.add_argument("--ray", default=None, metavar="ADDRESS",
                   help="run the engine as a Ray Serve deployment on this cluster ('auto', 'ray://HOST:10001', or 'local'); "
                        "or CHATFACE_RAY_ADDRESS. Sessions should then live in PostgreSQL (--database-url) for several front ends")
    g.add_argument("--replicas", type=int, default=1, help="engine replicas (the minimum, with --max-replicas)")
    g.add_argument("--max-replicas", type=int, default=None, help="autoscale up to this many replicas on load")
    g.add_argument("--gpus-per-replica", type=float, default=None, help="GPUs each replica holds (default: 1 for the diffusion engines, 0 offline)")
    g.add_argument("--max-batch", type=int, default=None,
                   help="decodes a replica gathers into one batched pass (default: 8 for the diffusion engine, which batches; else 1)")
    g.add_argument("--no-deploy", action="store_true", help="attach to the engine already deployed on the cluster (another front end)")


def _deploy(args, service) -> None:
    """With --ray: start (or update in place) the engine's deployment, unless --no-deploy."""
    if not service.config.ray_address or getattr(args, "no_deploy", False):
        return
    _require("--ray", "ray", "ray")
    if args.replicas < 1 or (args.max_replicas is not None and args.max_replicas < args.replicas):
        raise ValueError("--replicas must be at least 1, and --max-replicas at least --replicas")
    gpus = args.gpus_per_replica if args.gpus_per_replica is not None else (0.0 if service.config.engine == "offline" else 1.0)
    max_batch = args.max_batch if args.max_batch is not None else (8 if service.config.engine == "diffusion" else 1)
    if max_batch < 1:
        raise ValueError("--max-batch must be at least 1")
    _say(f"Deploying the {service.config.engine} engine on Ray ({service.config.ray_address}): {args.replicas}"
         f"{f'-{args.max_replicas}' if args.max_replicas else ''} replica(s), {gpus:g} GPU each, batches of up to {max_batch}...")
    service.deploy(replicas=args.replicas, max_replicas=args.max_replicas, gpus=gpus, max_batch=max_batch)


def _config(args):
    from .configuration import Configuration

    return Configuration().with_overrides(engine=getattr(args, "engine", None), planner=getattr(args, "planner", None),
                                          model=getattr(args, "model", None), database_url=getattr(args, "database_url", None),
                                          models_dir=getattr(args, "models", None), device=getattr(args, "device", None),
                                          dtype=getattr(args, "dtype", None), steps=getattr(args, "steps", None),
                                          face_index=getattr(args, "face_index", None), ray_address=getattr(args, "ray", None))


def _chats(config):
    from .agent.session import ChatService

    return ChatService(config)


def _service(config):
    from .tools.service import EditService

    return EditService(config)


def _open(chats, photo, export_dir=None):
    _say(f"Loading the {chats.config.engine} engine and inverting the face...")
    return chats.open_photo(photo, export_dir=export_dir)


def _check_output(path: str, force: bool) -> Path:
    out = Path(path)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ValueError(f"{out}: the output must end in .png, .jpg or .jpeg")
    if out.exists() and not force:
        raise ValueError(f"{out} exists already (use --force to overwrite)")
    if not out.parent.exists():
        raise ValueError(f"{out.parent}: no such directory")
    return out


def _save(agent, node, out: Path, overwrite: bool = False) -> None:
    agent.chats.service.export_node(agent.editor.session_id, node.seq, out, owner=agent.editor.owner, overwrite=overwrite)


# -- commands -------------------------------------------------------------
def cmd_edit(args) -> int:
    out = _check_output(args.output, args.force)
    agent = _open(_chats(_config(args)), args.photo)
    reply = agent.send(args.request)
    print(reply.text)
    sid = agent.editor.session_id
    if reply.head.seq == 0:  # a fresh session still at the original photo: nothing was applied
        print(f"session {sid}: nothing was applied, no file written", file=sys.stderr)
        return 1
    if reply.edits and not reply.visible_changes and not reply.removed:  # stored, but too weak to see or the wrong way
        print(f"session {sid}, node {reply.head.seq}: the change is too weak to see, no file written", file=sys.stderr)
        return 1
    _save(agent, reply.head, out, overwrite=args.force)
    print(f"session {sid}, node {reply.head.seq}: wrote {out}")
    return 0


def cmd_chat(args) -> int:
    chats = _chats(_config(args))
    if args.session:
        agent = chats.resume(args.session, export_dir=Path(args.out_dir))  # with the engine that made the session
    elif args.photo:
        agent = _open(chats, args.photo, Path(args.out_dir))
    else:
        raise ValueError("give a photo, or --session ID to resume one")
    editor = agent.editor
    print(f"session {editor.session_id} (resume with: chatface chat --session {editor.session_id})")
    print("Type a request; 'save FILE' writes the current image, 'quit' ends.")
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
                out = _check_output(line[5:].strip(), False)
            except ValueError as exc:
                print(f"chatface: error: {exc}", file=sys.stderr)
                continue
            _save(agent, editor.head(), out)
            print(f"wrote {out}")
            continue
        start = time.perf_counter()
        try:
            reply = agent.send(line)
        except Exception as exc:  # keep the conversation going on a failed turn
            from .errors import ChatfaceError

            if isinstance(exc, ChatfaceError):
                print(f"chatface: error: {exc}", file=sys.stderr)
                continue
            raise
        print(f"chatface> {reply.text}  [{time.perf_counter() - start:.2f}s, node {reply.head.seq}]")


def cmd_demo(args) -> int:
    from PIL import Image
    from skimage import data

    chats = _chats(_config(args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    photo = out / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    t0 = time.perf_counter()
    agent = _open(chats, str(photo), out)
    sid = agent.editor.session_id
    _save(agent, agent.editor.node(0), out / "before.png", overwrite=True)  # the demo's own folder: a rerun replaces it
    transcript = []
    for i, turn in enumerate(DEMO_TURNS, start=1):
        start = time.perf_counter()
        reply = agent.send(turn)
        dt = time.perf_counter() - start
        print(f"you> {turn}\nchatface> {reply.text}  [{dt:.2f}s]")
        _save(agent, reply.head, out / f"turn{i:02d}.png", overwrite=True)
        transcript.append({"user": turn, "reply": reply.text, "node": reply.head.seq, "state": reply.head.strengths(), "seconds": round(dt, 3)})
    stored = chats.service.history(sid)
    _save(agent, stored.head, out / "after.png", overwrite=True)
    history = {"session": sid, "head": stored.head.seq, "turns": transcript,
               "nodes": [{"seq": n.seq, "parent": parent, "action": n.action, "request": n.request, "state": n.state, "scores": n.scores}
                         for n, parent, _ in _tree_rows(stored)]}
    (out / "history.json").write_text(json.dumps(history, indent=2))
    print(f"wrote {out}/before.png, {out}/after.png, {out}/turnNN.png and {out}/history.json "
          f"(session {sid}, {time.perf_counter() - t0:.1f}s)")
    return 0


def _tree_rows(stored):
    """(node, its parent's node number or "-", is current) of a stored session: node numbers, never database ids."""
    from .tools.edit_state import tree_rows

    return tree_rows(stored.nodes, stored.head.id)


def cmd_sessions(args) -> int:
    service = _service(_config(args))
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
    from .tools.edit_state import describe

    stored = _service(_config(args)).history(args.session, owner="local")
    info, head = stored.info, stored.head
    if args.json:
        nodes = [{"node": n.seq, "parent": parent, "current": current, "action": n.action, "request": n.request, "state": n.state,
                  "scores": n.scores} for n, parent, current in _tree_rows(stored)]
        print(json.dumps({"session": info.id, "head": head.seq, "nodes": nodes, "messages": stored.messages}, indent=2, default=str))
        return 0
    print(f"session {info.id}: {info.source_name} ({info.engine})")
    for n, parent, is_head in _tree_rows(stored):
        mark = "*" if is_head else " "
        ident = n.scores.get("identity")
        extra = f"  identity {ident:.3f}" if ident is not None else ""
        print(f"{mark} {n.seq:3d} <- {parent!s:>3}  {n.action:8s} {describe(n.state)}{extra}  {n.request[:60]!r}")
    return 0


def cmd_export(args) -> int:
    out = _check_output(args.output, args.force)
    _service(_config(args)).export_node(args.session, args.node, out, owner="local", overwrite=args.force)
    print(f"wrote {out}")
    return 0


def cmd_users(args) -> int:
    accounts = _service(_config(args)).accounts
    if args.users_command == "add":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            import getpass

            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                raise ValueError("the two passwords differ; nothing was stored")
        name = accounts.add_user(args.name, password)
        print(f"added user {name}")
    elif args.users_command == "list":
        users = accounts.users()
        if not users:
            print("no users (servers on 127.0.0.1 then serve one local owner; other addresses refuse to start)")
        for u in users:
            print(f"{u.name:24s} {u.created_at[:19]}  {u.tokens} token(s)  {u.sessions} session(s)")
    elif args.users_command == "remove":
        gone = accounts.remove_user(args.name, delete_sessions=args.delete_sessions)
        print(f"removed user {args.name}" + (f" and {gone} session(s)" if gone else ""))
    elif args.revoke:
        print(f"revoked {accounts.revoke_tokens(args.name)} token(s) of {args.name}")
    else:
        print(accounts.new_token(args.name, args.label))
    return 0


def cmd_eval(args) -> int:
    if args.eval_command == "intents":
        return _eval_intents(args)
    return _eval_edits(args)


def _eval_intents(args) -> int:
    from .configuration import Configuration
    from .evaluation.dialogues import load_dialogues
    from .evaluation.intents import evaluate_intents

    path = args.dialogues or str(Path(__file__).with_name("evaluation") / "data" / "dialogues.jsonl")
    dialogues = load_dialogues(path)
    if args.limit is not None:
        dialogues = dialogues[: max(0, args.limit)]
    config = Configuration().with_overrides(planner=args.planner or "offline", model=args.model, base_url=args.base_url)
    if args.no_embeddings:
        config = config.with_overrides(use_embeddings=False)
    _say(f"Evaluating {config.planner} on {len(dialogues)} dialogues from {path}")
    report = evaluate_intents(dialogues, config, args.out, dataset=path, progress=not args.no_progress)
    lat = report["latency_ms"]
    print(f"turn accuracy {report['turn_accuracy']}, dialogue success {report['dialogue_success']}, "
          f"action accuracy {report['action_accuracy']}, attribute F1 {report['attribute_f1']}, "
          f"planner latency median {lat['median']} ms, endpoint errors {report['endpoint_errors']}"
          f"{' (interrupted: partial report)' if report['interrupted'] else ''}")
    print(f"report: {Path(args.out) / 'report.md'}")
    return 130 if report["interrupted"] else 0


def _eval_edits(args) -> int:
    from .evaluation.edits import evaluate_edits, parse_attributes, photo_paths

    requests = parse_attributes(args.attributes)
    try:
        strengths = [float(x) for x in args.strengths.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--strengths must be numbers, got {args.strengths!r}") from None
    if not strengths or any(not 0 < s <= 1 for s in strengths):
        raise ValueError("--strengths must be magnitudes in (0, 1]")
    if not photo_paths(args.photos):
        raise ValueError(f"{args.photos}: no photos (.png, .jpg, .jpeg, .webp, .bmp, .tif)")
    service = _service(_config(args))
    _say("Loading the engine...")
    report = evaluate_edits(args.photos, requests, service.parts(), args.out, strengths=strengths, progress=not args.no_progress)
    done = sum(1 for r in report["rows"] if "error" not in r)
    print(f"{done} edits scored on {report['photos'] - len(report['photos_skipped'])} photo(s); "
          f"{len(report['photos_skipped'])} skipped; report: {Path(args.out) / 'report.md'}")
    return 0


def _require(command: str, module: str, extra: str) -> None:
    import importlib.util

    from .errors import MissingExtraError

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(f"chatface {command} needs the '{module}' package, which is not installed: "
                                f"pip install -e \".[{extra}]\" (or pip install 'chatface[{extra}]')")


def cmd_mcp(args) -> int:
    _require("mcp", "mcp", "serve")
    from .interfaces.access import check_exposure
    from .interfaces.mcp_server import ConnectionSessions, build_server, request_body_limit

    service = _service(_config(args))
    http = args.transport == "http"
    users = http and service.accounts.any_users()
    warning = check_exposure(args.host, users=users, no_auth=args.no_auth, command="mcp") if http else None
    _deploy(args, service)
    sessions = ConnectionSessions(service, owner=args.owner, authenticated=users,
                                  allowed_dirs=[Path(d) for d in (args.allow_dir or ["."])],
                                  export_dir=Path(args.export_dir) if args.export_dir else None)
    if not http:
        build_server(sessions).run("stdio")
        return 0
    url = f"http://{args.host}:{args.port}"
    auth = None
    if users:
        from mcp.server.auth.settings import AuthSettings

        auth = AuthSettings(issuer_url=url, resource_server_url=f"{url}/mcp", validate_token_resource=False)
    if warning:
        _say(warning)
    _say(f"chatface MCP server on {url}/mcp" + (" (bearer tokens of chatface users)" if users else f" (owner {args.owner}, no login)"))
    build_server(sessions, auth=auth).run("streamable-http", host=args.host, port=args.port,
                                          max_request_body_size=request_body_limit(service.max_upload_bytes))
    return 0


def cmd_serve(args) -> int:
    _require("serve", "gradio", "serve")
    import threading

    from .interfaces.access import check_exposure
    from .interfaces.web_app import WebBackend, build_app, launch

    config = _config(args)
    chats = _chats(config)
    users = chats.service.accounts.any_users()
    warning = check_exposure(args.host, users=users or bool(args.trusted_header), no_auth=args.no_auth, command="serve")
    _deploy(args, chats.service)
    backend = WebBackend(chats, owner=args.owner, authenticated=users, trusted_header=args.trusted_header)
    app = build_app(backend)
    # the engine and the planner load while the page is already up: the first request does not wait for them
    threading.Thread(target=chats.warm, name="chatface-warm-up", daemon=True).start()
    if warning:
        _say(warning)
    who = (f"users from the {args.trusted_header} header" if args.trusted_header else "login with chatface users" if users
           else f"owner {args.owner}, no login")
    _say(f"chatface web app on http://{args.host}:{args.port} ({config.engine} engine, {config.planner} planner; {who})")
    launch(app, backend, args.host, args.port)
    return 0


def cmd_tools(args) -> int:
    from .interfaces.langchain_toolkit import tool_schemas

    print(json.dumps(tool_schemas(args.format), indent=2))
    return 0


def cmd_models(args) -> int:
    _require(f"models {args.models_command}", "torch", "diffusion")
    if args.models_command == "make-tiny" and args.engine == "ledits":
        from .models.tiny import make_tiny_ledits

        root = make_tiny_ledits(args.dir, seed=args.seed)
        print(f"wrote a random-weight Stable Diffusion pipeline to {root} (sd/, clip/, arcface.onnx).")
        print("Its edits are MEANINGLESS: it tests the plumbing. Use it with --engine ledits --models " + str(root))
        return 0
    if args.models_command == "make-tiny":
        from .models.tiny import make_tiny

        from .tools.vocabulary import default_vocabulary

        root = make_tiny(args.dir, default_vocabulary().texts(), seed=args.seed)
        print(f"wrote random-weight models to {root} (unet/, mappings/ for every attribute, clip/, arcface.onnx).")
        print("Their edits are MEANINGLESS: they test the plumbing. Use them with --engine diffusion --models " + str(root))
        return 0
    if args.models_command == "fetch":
        from .models.asyrp_fetch import fetch_asyrp

        attributes = [a.strip() for a in args.attributes.split(",") if a.strip()] if args.attributes else None
        dest = fetch_asyrp(args.dest, source=args.source, attributes=attributes, resolution=args.resolution,
                           arcface=not args.no_arcface, progress=not args.no_progress, log=_say)
        print(f"wrote {dest} (unet/, mappings/{'' if args.no_arcface else ', arcface.onnx'}). "
              f"Use it with: chatface chat PHOTO --engine diffusion --models {dest}")
        return 0
    from .models.diffusion_loading import resolve_sources
    from .models.hspace import MappingRegistry
    from .models.unet_identity import unet_id

    config = _config(args)
    src = resolve_sources(config.models_dir, **config.model_sources())
    print(f"unet:     {src.unet}" + (f" (id {unet_id(src.unet)})" if unet_id(src.unet) != src.unet else ""))
    print(f"clip:     {src.clip}" + (f" ({src.clip_pretrained})" if src.clip_pretrained else ""))
    print(f"arcface:  {src.arcface or 'buffalo_l in ~/.insightface/models'}")
    reg = MappingRegistry(src.mappings, base_model=unet_id(src.unet))
    print(f"mappings: {src.mappings or '(none)'}: {len(reg.available())} attribute(s): {', '.join(reg.available()) or '-'}")
    for attr in reg.available():
        pos, neg = reg.directions(attr)
        infos = reg.infos[attr].values()
        kinds = ", ".join(sorted({i.meta.get("architecture", "chatface") for i in infos}))
        print(f"  {attr:<12} {'+' if pos else ' '}{'-' if neg else ' '}  {kinds}: {', '.join(i.path.name for i in infos)}")
    for name, why in reg.problems.items():
        print(f"  ignored {name}: {why}")
    return 0


def cmd_train_direction(args) -> int:
    _require("train-direction", "torch", "diffusion")
    from .models.diffusion_loading import load_unet, resolve_sources
    from .models.train_mapping import TrainSettings, train_direction
    from .tools.vocabulary import default_vocabulary

    if args.attribute not in default_vocabulary():
        close = default_vocabulary().closest(args.attribute)
        raise ValueError(f"unknown attribute {args.attribute!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    if not Path(args.images).is_dir():
        raise ValueError(f"{args.images}: not a folder of photos")
    import torch

    from .models.arcface import resolve_arcface_path
    from .models.unet_identity import unet_id

    config = _config(args)
    src = resolve_sources(config.models_dir, **config.model_sources())
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    unet, scheduler = load_unet(src.unet, device)
    attr = default_vocabulary()[args.attribute]
    t_edit = args.t_edit if args.t_edit is not None else attr.default_t_edit
    settings = TrainSettings(args.attribute, attr.texts(), t_edit, iterations=args.iterations, steps=config.steps or 20, lr=args.lr,
                             hidden=args.hidden, checkpoint_every=args.checkpoint_every)
    path = train_direction(settings, args.images, args.out, unet=unet, scheduler=scheduler, base_model=unet_id(src.unet),
                           clip_name=src.clip, clip_pretrained=src.clip_pretrained, arcface_path=str(resolve_arcface_path(src.arcface)),
                           device=device, resume=args.resume, progress=not args.no_progress, log=_say)
    print(f"wrote {path}")
    return 0


COMMANDS = {"serve": cmd_serve, "mcp": cmd_mcp, "tools": cmd_tools, "models": cmd_models, "train-direction": cmd_train_direction, "eval": cmd_eval, "edit": cmd_edit, "chat": cmd_chat, "demo": cmd_demo, "sessions": cmd_sessions, "users": cmd_users, "history": cmd_history, "export": cmd_export}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("chatface: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, no traceback
        if _is_user_error(exc):
            print(f"chatface: error: {exc}", file=sys.stderr)
            return 1
        raise


def _is_user_error(exc: Exception) -> bool:
    from .errors import ChatfaceError

    return isinstance(exc, (ValueError, OSError, ChatfaceError))


if __name__ == "__main__":
    sys.exit(main())
