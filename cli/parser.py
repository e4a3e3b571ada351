"""The ``chatface`` argument parser: every command, its options and help. Imports nothing heavy."""

from __future__ import annotations

import argparse


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["offline", "diffusion", "ledits"],
        default=None,
        help="image engine: offline, diffusion (Asyrp / trained h-space networks) or ledits (LEDITS++, text-driven; "
        "default: offline, or CHATFACE_ENGINE)",
    )
    p.add_argument("--planner", choices=["offline", "openai"], default=None, help="planner (default: offline, or CHATFACE_PLANNER)")
    p.add_argument("--model", default=None, help="LLM name for --planner openai (or CHATFACE_MODEL)")
    p.add_argument(
        "--database-url", default=None, help="SQLAlchemy URL (default: CHATFACE_DATABASE_URL or a SQLite file in the user data dir)"
    )
    p.add_argument("--face-index", type=int, default=0, help="which face to edit when there are several (0 = largest)")
    add_engine_options(p)


def add_engine_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("diffusion engine")
    g.add_argument(
        "--models",
        default=None,
        help="models directory (unet/, mappings/, clip/, arcface.onnx), e.g. from 'models make-tiny'; or CHATFACE_MODELS",
    )
    g.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    g.add_argument(
        "--dtype", choices=["float32", "float16", "bfloat16"], default=None, help="precision (default: float16 on cuda, float32 on cpu)"
    )
    g.add_argument(
        "--steps",
        type=int,
        default=None,
        help="DDIM steps for inversion and editing (default: the models folder's own, 40 for Asyrp's networks, else 20)",
    )


def add_ray_options(p) -> None:
    g = p.add_argument_group('engines on a Ray cluster (pip install -e ".[ray]")')
    g.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="run the engine as a Ray Serve deployment on this cluster ('auto', 'ray://HOST:10001', or 'local'); "
        "or CHATFACE_RAY_ADDRESS. Sessions should then live in PostgreSQL (--database-url) for several front ends",
    )
    g.add_argument("--replicas", type=int, default=1, help="engine replicas (the minimum, with --max-replicas)")
    g.add_argument("--max-replicas", type=int, default=None, help="autoscale up to this many replicas on load")
    g.add_argument(
        "--gpus-per-replica",
        type=float,
        default=None,
        help="GPUs each replica holds (default: 1 for the diffusion engines unless --device cpu, 0 offline)",
    )
    g.add_argument(
        "--max-batch",
        type=int,
        default=None,
        help="decodes a replica gathers into one batched pass (default: 8 for the diffusion engine, which batches; else 1)",
    )
    g.add_argument("--no-deploy", action="store_true", help="attach to the engine already deployed on the cluster (another front end)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatface", description="Chat-guided editing of real face photos.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("edit", help="edit a photo with one request")
    p.add_argument("photo")
    p.add_argument("request")
    p.add_argument("-o", "--output", required=True, help="where to write the edited photo (PNG or JPEG)")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    p.add_argument("--reference", help="a reference photo for requests like 'the lipstick of this photo'")
    add_common_options(p)

    p = sub.add_parser("chat", help="chat about a photo, turn by turn (or resume a session)")
    p.add_argument("photo", nargs="?")
    p.add_argument("--session", help="resume this session id")
    p.add_argument("--out-dir", default=".", help="where 'export' writes files (default: current directory)")
    add_common_options(p)

    p = sub.add_parser("demo", help="run a scripted conversation on scikit-image's astronaut photo")
    p.add_argument("--out", default="chatface-demo", help="output directory (default: ./chatface-demo)")
    add_common_options(p)

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
    q.add_argument(
        "--reference",
        default=None,
        metavar="DIR",
        help="a folder of reference photos (or one): each attribute is taken from each reference onto each photo "
        "(apply_reference) and scored by identity and by its distance to the reference's amount; --strengths is not used",
    )
    q.add_argument("--engine", choices=["offline", "diffusion", "ledits"], default=None)
    q.add_argument("--out", required=True)
    q.add_argument("--no-progress", action="store_true")
    add_engine_options(q)

    p = sub.add_parser("mcp", help="serve the tools over the Model Context Protocol (stdio or streamable HTTP)")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--allow-dir",
        action="append",
        default=None,
        help="a directory whose photos clients may name by path (repeatable; default: the current directory)",
    )
    p.add_argument("--export-dir", default=None, help="where the export tool writes (default: no exports)")
    p.add_argument(
        "--owner", default="local", help="without users: owner of the sessions this server opens (a client can attach only to these)"
    )
    p.add_argument("--no-auth", action="store_true", help="serve a non-loopback address without users (prints a warning)")
    add_ray_options(p)
    add_common_options(p)

    p = sub.add_parser("serve", help="the web app (Gradio) on 127.0.0.1: upload, chat, history gallery, undo/redo, download")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--owner", default="web", help="without users: owner of the sessions the app opens")
    p.add_argument("--no-auth", action="store_true", help="serve a non-loopback address without users (prints a warning)")
    p.add_argument(
        "--trusted-header",
        default=None,
        metavar="HEADER",
        help="take the user from this request header set by an authenticating reverse proxy (e.g. X-Forwarded-User); "
        "only behind a proxy that always sets it",
    )
    add_ray_options(p)
    add_common_options(p)

    p = sub.add_parser("tools", help="print the tool definitions for function-calling clients")
    p.add_argument("--format", choices=["openai", "json-schema"], default="openai")
    p.add_argument(
        "--engine",
        choices=["offline", "diffusion", "ledits"],
        default="offline",
        help="the engine whose edits apply_attribute's description names",
    )

    p = sub.add_parser("engines", help="what each engine edits, what it needs, and whether it can run here")
    p.add_argument("--json", action="store_true", help='print {"engines": [{"name", "available", "needs", "attributes": [...]}]}')
    p.add_argument("--models", default=None, help="a models folder: the diffusion engine offers the networks it holds")

    p = sub.add_parser("models", help="diffusion engine models: fetch the real ones, make tiny random ones, list what a directory holds")
    mv = p.add_subparsers(dest="models_command", required=True, metavar="WHAT")
    q = mv.add_parser("make-tiny", help="write random-weight models of every real architecture (meaningless edits, real plumbing)")
    q.add_argument("dir")
    q.add_argument(
        "--engine",
        choices=["diffusion", "ledits"],
        default="diffusion",
        help="diffusion: U-Net, mapping networks, CLIP, ArcFace; ledits: a Stable Diffusion pipeline, CLIP, ArcFace",
    )
    q.add_argument("--seed", type=int, default=0)
    q = mv.add_parser("fetch", help="download, check and convert real weights into a models directory")
    q.add_argument("what", choices=["asyrp"], help="asyrp: SDEdit's CelebA-HQ U-Net and Asyrp's published h-space networks")
    q.add_argument("--dest", required=True, help="the models directory to write (then use --models DEST or CHATFACE_MODELS=DEST)")
    q.add_argument(
        "--from",
        dest="source",
        default=None,
        help="a folder or base URL holding celeba_hq.ckpt, checkpoint/<file>.pth, arcface.onnx and clip/, instead of "
        "the hub, GitHub and OpenAI (a part it lacks comes from there)",
    )
    q.add_argument("--attributes", default=None, help="comma-separated networks or attributes (default: all nine face networks)")
    q.add_argument("--resolution", type=int, default=256, help="the U-Net's sample size (default 256)")
    q.add_argument("--no-arcface", action="store_true", help="do not put ArcFace (insightface's buffalo_l) into DEST")
    q.add_argument("--no-clip", action="store_true", help="do not put CLIP (OpenAI's ViT-B-32) into DEST")
    q.add_argument("--no-progress", action="store_true")
    q = mv.add_parser("verify", help="check a fetched models directory: every part there, every file against its sha256")
    q.add_argument("dir")
    q = mv.add_parser("list", help="show where each part of the diffusion engine would load from, and the trained attributes")
    q.add_argument("--models", default=None)

    p = sub.add_parser(
        "train-direction",
        help="train an attribute's mapping network (CLIP direction + ArcFace identity + L1 losses), or with --method deltaedit "
        "one text-free mapper for every attribute (DeltaEdit, from the photos alone)",
    )
    p.add_argument("attribute", nargs="?", help="the attribute id (not with --method deltaedit)")
    p.add_argument(
        "--method",
        choices=["chatface", "deltaedit"],
        default="chatface",
        help="chatface: one network per attribute (default); deltaedit: one mapper from CLIP image differences to h-space "
        "differences, which edits towards any attribute's texts (write it to MODELS/deltaedit)",
    )
    p.add_argument("--images", required=True, help="folder of face photos to train on")
    p.add_argument("--out", required=True, help="where the mapping network, checkpoints and log go (e.g. MODELS/mappings)")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--t-edit", type=int, default=None, help="edit steps t >= T_EDIT (default: the attribute's default)")
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--no-progress", action="store_true")
    add_engine_options(p)
    return parser
