"""The commands that work on a models folder: models (make-tiny, fetch, list, convert), train-direction.
The only commands that import models/ directly."""

from __future__ import annotations

import sys
from pathlib import Path

from .wiring import config_from, require_extra, say


def cmd_models(args) -> int:
    if args.models_command == "verify":  # no torch: a folder can be checked on any machine
        from ..models.weights.manifest import verify

        problems = verify(args.dir)
        for line in problems:
            print(line)
        if problems:
            print(f"{args.dir}: {len(problems)} problem(s)", file=sys.stderr)
            return 1
        print(f"{args.dir}: every part is there and every file matches its sha256")
        return 0
    require_extra(f"models {args.models_command}", "torch", "diffusion")
    if args.models_command == "make-tiny" and args.engine == "ledits":
        from ..models.weights.tiny import make_tiny_ledits

        root = make_tiny_ledits(args.dir, seed=args.seed)
        print(f"wrote a random-weight Stable Diffusion pipeline to {root} (sd/, clip/, arcface.onnx).")
        print("Its edits are MEANINGLESS: it tests the plumbing. Use it with --engine ledits --models " + str(root))
        return 0
    if args.models_command == "make-tiny":
        from ..models.weights.tiny import make_tiny
        from ..tools.vocabulary import default_vocabulary

        root = make_tiny(args.dir, default_vocabulary().texts(), seed=args.seed)
        print(f"wrote random-weight models to {root} (unet/, mappings/ for every attribute, clip/, arcface.onnx).")
        print("Their edits are MEANINGLESS: they test the plumbing. Use them with --engine diffusion --models " + str(root))
        return 0
    if args.models_command == "fetch":
        from ..models.weights.fetch import fetch_asyrp

        attributes = [a.strip() for a in args.attributes.split(",") if a.strip()] if args.attributes else None
        dest = fetch_asyrp(
            args.dest,
            source=args.source,
            attributes=attributes,
            resolution=args.resolution,
            arcface=not args.no_arcface,
            clip=not args.no_clip,
            progress=not args.no_progress,
            log=say,
        )
        print(
            f"wrote {dest} (unet/, mappings/{'' if args.no_arcface else ', arcface.onnx'}{'' if args.no_clip else ', clip/'}, "
            f"MANIFEST.json). "
            f"Use it with: chatface chat PHOTO --engine diffusion --models {dest}"
        )
        return 0
    from ..models.engines.diffusion.loading import describe_models

    config = config_from(args)
    print("\n".join(describe_models(config.models_dir, **config.model_sources())))
    return 0


def cmd_train_direction(args) -> int:
    if args.method == "deltaedit":
        return _train_delta_mapper(args)
    if args.attribute is None:
        raise ValueError("name the attribute to train (or use --method deltaedit, which needs none)")
    require_extra("train-direction", "torch", "diffusion")
    from ..models.training.mapping import TrainSettings, train_direction_in_models
    from ..tools.vocabulary import default_vocabulary

    if args.attribute not in default_vocabulary():
        close = default_vocabulary().closest(args.attribute)
        raise ValueError(f"unknown attribute {args.attribute!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    if not Path(args.images).is_dir():
        raise ValueError(f"{args.images}: not a folder of photos")
    config = config_from(args)
    attr = default_vocabulary()[args.attribute]
    t_edit = args.t_edit if args.t_edit is not None else attr.default_t_edit
    settings = TrainSettings(
        args.attribute,
        attr.texts(),
        t_edit,
        iterations=args.iterations,
        steps=config.steps or 20,
        lr=args.lr,
        hidden=args.hidden,
        checkpoint_every=args.checkpoint_every,
    )
    path = train_direction_in_models(
        settings,
        args.images,
        args.out,
        models_dir=config.models_dir,
        sources=config.model_sources(),
        device=config.device,
        resume=args.resume,
        progress=not args.no_progress,
        log=say,
    )
    print(f"wrote {path}")
    return 0


def _train_delta_mapper(args) -> int:
    """train-direction --method deltaedit: one text-free mapper from the photos of --images (DeltaEdit)."""
    if args.attribute is not None:
        raise ValueError(f"--method deltaedit learns every attribute at once from the photos; drop {args.attribute!r}")
    if not Path(args.images).is_dir():
        raise ValueError(f"{args.images}: not a folder of photos")
    require_extra("train-direction", "torch", "diffusion")
    from ..models.training.deltaedit import DeltaSettings, train_delta_mapper_in_models

    config = config_from(args)
    settings = DeltaSettings(
        t_edit=args.t_edit if args.t_edit is not None else 500,
        iterations=args.iterations,
        steps=config.steps or 20,
        lr=args.lr,
        hidden=args.hidden,
        checkpoint_every=args.checkpoint_every,
    )
    path = train_delta_mapper_in_models(
        settings,
        args.images,
        args.out,
        models_dir=config.models_dir,
        sources=config.model_sources(),
        device=config.device,
        resume=args.resume,
        log=say,
    )
    print(f"wrote {path}")
    return 0
