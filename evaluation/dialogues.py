"""Reading dialogue sets in exactly the format of shared/spec/intents.md.

One JSON object per line: ``id`` and ``turns`` (each with ``user``, ``action``,
``state``) are required, ``image`` and ``tags`` optional, other keys ignored.
Every malformed line is reported with its line number; nothing is skipped
silently, so a set written by someone else is either read whole or refused
with the list of what to fix.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..tools.vocabulary import default_vocabulary

ACTIONS = ("edit", "undo", "redo", "reset", "none", "clarify")


class DialogueFormatError(ValueError):
    """A dialogue file that does not follow the spec; ``problems`` holds (line number, message)."""

    def __init__(self, path: str, problems: list[tuple[int, str]]):
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  line {n}: {msg}" for n, msg in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{path}: {len(problems)} malformed line(s):\n{shown}{more}")


@dataclass(frozen=True)
class Turn:
    user: str
    action: str
    state: dict[str, float]
    extra: dict = field(default_factory=dict)  # keys the spec does not define (kept, ignored by scoring)


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: list[Turn]
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    line: int = 0


def _check_state(state, known: set[str]) -> str | None:
    if not isinstance(state, dict):
        return "state must be an object {attribute id: strength}"
    for attr, value in state.items():
        if attr not in known:
            return f"unknown attribute id {attr!r} in state"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"strength of {attr!r} must be a finite number"
        if not -1.0 <= value <= 1.0:
            return f"strength of {attr!r} is {value}, outside [-1, 1]"
    return None


def parse_dialogue(obj, line: int, known: set[str]) -> Dialogue:
    """One dialogue from a decoded JSON line; raises ValueError with the first problem found."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    did = obj.get("id")
    if not isinstance(did, (str, int)) or isinstance(did, bool) or str(did) == "":
        raise ValueError("missing or empty 'id'")
    turns = obj.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ValueError(f"dialogue {did}: 'turns' must be a non-empty list")
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"dialogue {did}: 'tags' must be a list of strings")
    image = obj.get("image")
    if image is not None and not isinstance(image, str):
        raise ValueError(f"dialogue {did}: 'image' must be a string")
    out = []
    for i, t in enumerate(turns):
        where = f"dialogue {did} turn {i}"
        if not isinstance(t, dict):
            raise ValueError(f"{where}: a turn must be an object")
        for key in ("user", "action", "state"):
            if key not in t:
                raise ValueError(f"{where}: missing '{key}'")
        if not isinstance(t["user"], str):
            raise ValueError(f"{where}: 'user' must be a string")
        if t["action"] not in ACTIONS:
            raise ValueError(f"{where}: action {t['action']!r} is not one of {', '.join(ACTIONS)}")
        problem = _check_state(t["state"], known)
        if problem:
            raise ValueError(f"{where}: {problem}")
        extra = {k: v for k, v in t.items() if k not in ("user", "action", "state")}
        out.append(Turn(t["user"], t["action"], {a: float(v) for a, v in t["state"].items() if v != 0}, extra))
    return Dialogue(str(did), out, list(tags), image, line)


def load_dialogues(path: str | Path) -> list[Dialogue]:
    """All dialogues of a JSONL file, or DialogueFormatError listing every malformed line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DialogueFormatError(str(path), [(0, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DialogueFormatError(str(path), [(0, f"not UTF-8 text ({exc.reason})")]) from None
    known = set(default_vocabulary().ids())
    dialogues: list[Dialogue] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append((n, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        try:
            d = parse_dialogue(obj, n, known)
        except ValueError as exc:
            problems.append((n, str(exc)))
            continue
        if d.id in seen:
            problems.append((n, f"dialogue id {d.id!r} repeats line {seen[d.id]}"))
            continue
        seen[d.id] = n
        dialogues.append(d)
    if problems:
        raise DialogueFormatError(str(path), problems)
    if not dialogues:
        raise DialogueFormatError(str(path), [(0, "no dialogues in the file")])
    return dialogues
