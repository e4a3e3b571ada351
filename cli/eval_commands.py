"""``chatface eval``: intent parsing on dialogue sets, and edits graded on photos."""

from __future__ import annotations

from pathlib import Path

from .wiring import config_from, edit_service, say


def cmd_eval(args) -> int:
    if args.eval_command == "intents":
        return _eval_intents(args)
    return _eval_edits(args)


def _eval_intents(args) -> int:
    from ..configuration import Configuration
    from ..evaluation.dialogues import load_dialogues
    from ..evaluation.intents import evaluate_intents

    path = args.dialogues or str(Path(__file__).resolve().parents[1] / "evaluation" / "data" / "dialogues.jsonl")
    dialogues = load_dialogues(path)
    if args.limit is not None:
        dialogues = dialogues[: max(0, args.limit)]
    config = Configuration().with_overrides(planner=args.planner or "offline", model=args.model, base_url=args.base_url)
    if args.no_embeddings:
        config = config.with_overrides(use_embeddings=False)
    say(f"Evaluating {config.planner} on {len(dialogues)} dialogues from {path}")
    report = evaluate_intents(dialogues, config, args.out, dataset=path, progress=not args.no_progress)
    lat = report["latency_ms"]
    print(
        f"turn accuracy {report['turn_accuracy']}, dialogue success {report['dialogue_success']}, "
        f"action accuracy {report['action_accuracy']}, attribute F1 {report['attribute_f1']}, "
        f"planner latency median {lat['median']} ms, endpoint errors {report['endpoint_errors']}"
        f"{' (interrupted: partial report)' if report['interrupted'] else ''}"
    )
    print(f"report: {Path(args.out) / 'report.md'}")
    return 130 if report["interrupted"] else 0


def _eval_edits(args) -> int:
    from ..evaluation.edits import evaluate_edits, parse_attributes, photo_paths

    if args.reference is not None:
        return _eval_reference_edits(args)
    requests = parse_attributes(args.attributes)
    try:
        strengths = [float(x) for x in args.strengths.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--strengths must be numbers, got {args.strengths!r}") from None
    if not strengths or any(not 0 < s <= 1 for s in strengths):
        raise ValueError("--strengths must be magnitudes in (0, 1]")
    if not photo_paths(args.photos):
        raise ValueError(f"{args.photos}: no photos (.png, .jpg, .jpeg, .webp, .bmp, .tif)")
    service = edit_service(config_from(args))
    say("Loading the engine...")
    report = evaluate_edits(args.photos, requests, service.parts(), args.out, strengths=strengths, progress=not args.no_progress)
    done = sum(1 for r in report["rows"] if "error" not in r)
    print(
        f"{done} edits scored on {report['photos'] - len(report['photos_skipped'])} photo(s); "
        f"{len(report['photos_skipped'])} skipped; report: {Path(args.out) / 'report.md'}"
    )
    return 0


def _eval_reference_edits(args) -> int:
    from ..evaluation.edits import photo_paths
    from ..evaluation.reference_edits import evaluate_reference_edits

    attributes = [a.strip() for a in args.attributes.split(",") if a.strip()]
    if any(a.startswith("-") for a in attributes):
        raise ValueError("--reference takes attribute ids without a sign: the reference says how much, and which way")
    for folder, what in ((args.photos, "photos"), (args.reference, "reference photos")):
        if not photo_paths(folder):
            raise ValueError(f"{folder}: no {what} (.png, .jpg, .jpeg, .webp, .bmp, .tif)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the sessions of an evaluation are its own: stored beside its report, never among the user's
    config = config_from(args).with_overrides(database_url=f"sqlite:///{(out / 'sessions.db').resolve()}")
    service = edit_service(config)
    say("Loading the engine...")
    try:
        report = evaluate_reference_edits(args.photos, args.reference, attributes, service, out, progress=not args.no_progress)
    finally:
        service.close()
    for a, s in report["per_attribute"].items():
        print(
            f"{a}: {s['edited']} of {s['pairs']} pairs edited, {s['closer']} closer to the reference "
            f"(distance {s['distance_before']} -> {s['distance_after']}), {s['same_person']} the same person; "
            f"{s['declined']} declined, {s['errors']} errors"
        )
    print(f"report: {out / 'report.md'}")
    return 0
