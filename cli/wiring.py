"""What every command shares: one Configuration from the arguments, the one service factory, checked outputs,
extras asked for by name, and the Ray deployment of the engine."""

from __future__ import annotations

import sys
from pathlib import Path


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def require_extra(command: str, module: str, extra: str) -> None:
    import importlib.util

    from ..errors import MissingExtraError

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(
            f"chatface {command} needs the '{module}' package, which is not installed: "
            f"pip install -e \".[{extra}]\" (or pip install 'chatface[{extra}]')"
        )


def config_from(args):
    from ..configuration import Configuration

    return Configuration().with_overrides(
        engine=getattr(args, "engine", None),
        planner=getattr(args, "planner", None),
        model=getattr(args, "model", None),
        database_url=getattr(args, "database_url", None),
        models_dir=getattr(args, "models", None),
        device=getattr(args, "device", None),
        dtype=getattr(args, "dtype", None),
        steps=getattr(args, "steps", None),
        face_index=getattr(args, "face_index", None),
        ray_address=getattr(args, "ray", None),
    )


def chat_service(config):
    from ..agent.session import ChatService

    return ChatService(config)


def edit_service(config):
    from ..tools.service import EditService

    return EditService(config)


def open_photo(chats, photo, export_dir=None, face_index=None):
    say(f"Loading the {chats.config.engine} engine and inverting the face...")
    return chats.open_photo(photo, export_dir=export_dir, face_index=face_index)


def face_note(agent, how_to_switch: str) -> str | None:
    """ "Editing the largest of 6 faces, on the left; ..." when the photo has several faces, else None."""
    from ..tools.face_words import which_face

    which = which_face(agent.editor.latent().meta)
    return f"Editing {which}; {how_to_switch}." if which else None


def check_output(path: str, force: bool) -> Path:
    out = Path(path)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ValueError(f"{out}: the output must end in .png, .jpg or .jpeg")
    if out.exists() and not force:
        raise ValueError(f"{out} exists already (use --force to overwrite)")
    if not out.parent.exists():
        raise ValueError(f"{out.parent}: no such directory")
    return out


def save_node(agent, node, out: Path, overwrite: bool = False) -> None:
    agent.chats.service.export_node(agent.editor.session_id, node.seq, out, owner=agent.editor.owner, overwrite=overwrite)


def deploy_engine(args, service) -> None:
    """With --ray: start (or update in place) the engine's deployment, unless --no-deploy."""
    if not service.config.ray_address or getattr(args, "no_deploy", False):
        return
    require_extra("--ray", "ray", "ray")
    if args.replicas < 1 or (args.max_replicas is not None and args.max_replicas < args.replicas):
        raise ValueError("--replicas must be at least 1, and --max-replicas at least --replicas")
    gpus, max_batch = service.replica_resources(args.gpus_per_replica, args.max_batch)
    if max_batch < 1:
        raise ValueError("--max-batch must be at least 1")
    say(
        f"Deploying the {service.config.engine} engine on Ray ({service.config.ray_address}): {args.replicas}"
        f"{f'-{args.max_replicas}' if args.max_replicas else ''} replica(s), {gpus:g} GPU each, batches of up to {max_batch}..."
    )
    service.deploy(replicas=args.replicas, max_replicas=args.max_replicas, gpus=gpus, max_batch=max_batch)
