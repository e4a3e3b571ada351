"""Gold states of a dialogue set, computed from annotated operations with the spec's arithmetic.

Writing states by hand invites arithmetic slips ("a bit more" on 0.3 is 0.4,
not 0.45). So our development set is written as a text file where each user
message carries the operations a person means by it, and this module computes
the gold action and state from those operations, following
shared/spec/intents.md. It is independent of every planner (it shares no code
with the offline planner's parser).

Text format (``dialogues.txt``)::

    // a comment
    # d001 multi strength              <- id, then tags
    Hi! A subtle smile and glasses? => set smiling 0.3; set eyeglasses 0.6
    a bit more smile => more smiling 0.1
    actually undo that => undo 1

Operations: ``set A v`` (absolute, signed), ``more A step`` / ``more -A step``
(relative, step 0.1 / 0.2 / 0.3, in A's positive or negative direction),
``less A step`` (toward zero), ``remove A [v]`` (drop the edit, or the photo's
own attribute at -v, default 0.6), ``undo N``, ``redo N``, ``reset``,
``none``, ``clarify``. An ``undo`` followed by edits in one turn is an edit.

Run ``python -m chatface.evaluation.gold build dialogues.txt dialogues.jsonl``
to write the JSONL set (each turn keeps its ``ops``), and
``python -m chatface.evaluation.gold check dialogues.jsonl`` to recompute
every state from the ops and report any that differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..tools.vocabulary import default_vocabulary

ABSOLUTE_FOR_STEP = {0.1: 0.3, 0.2: 0.6, 0.3: 0.9}


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


@dataclass
class History:
    """The edit turns of a session: undo/redo move along it, an edit cuts off what was undone."""

    states: list[dict] = field(default_factory=lambda: [{}])
    head: int = 0

    @property
    def state(self) -> dict:
        return dict(self.states[self.head])

    def push(self, state: dict) -> None:
        self.states = self.states[: self.head + 1] + [dict(state)]
        self.head += 1


def _set(state: dict, attr: str, value: float) -> None:
    value = round(_clamp(value), 4)
    if abs(value) < 1e-9:
        state.pop(attr, None)
        return
    for rival in default_vocabulary().exclusive_rivals(attr):
        state.pop(rival, None)
    state[attr] = value


def _step(token: str) -> float:
    step = round(float(token), 4)
    if step not in ABSOLUTE_FOR_STEP:
        raise ValueError(f"relative step must be 0.1, 0.2 or 0.3, not {token}")
    return step


def apply_ops(history: History, ops: list[str]) -> str:
    """Apply one turn's operations to ``history``; returns the turn's action."""
    ids = set(default_vocabulary().ids())
    state = history.state
    edited = False
    action = None
    for op in ops:
        words = op.split()
        if not words:
            continue
        verb, args = words[0], words[1:]
        if verb in ("set", "more", "less", "remove"):
            if not args:
                raise ValueError(f"{op!r}: missing attribute")
            name = args[0]
            polarity = -1 if name.startswith("-") else 1
            attr = name.lstrip("-")
            if attr not in ids:
                raise ValueError(f"{op!r}: unknown attribute {attr!r}")
            current = state.get(attr, 0.0)
            if verb == "set":
                _set(state, attr, polarity * float(args[1]))
            elif verb == "more":
                step = _step(args[1])
                if current == 0:
                    _set(state, attr, polarity * ABSOLUTE_FOR_STEP[step])
                else:
                    _set(state, attr, current + polarity * step)
            elif verb == "less":
                step = _step(args[1])
                if current == 0:
                    _set(state, attr, -ABSOLUTE_FOR_STEP[step] if step != 0.2 else -0.6)
                else:
                    sign = 1 if current > 0 else -1
                    new = current - sign * step
                    _set(state, attr, 0.0 if new * sign < 0 else new)
            else:  # remove
                if current != 0:
                    state.pop(attr)
                else:
                    _set(state, attr, -float(args[1]) if len(args) > 1 else -0.6)
            edited = True
        elif verb in ("undo", "redo"):
            n = int(args[0]) if args else 1
            if edited:
                raise ValueError(f"{op!r}: undo/redo must come before the edits of the same turn")
            if verb == "undo":
                history.head = max(0, history.head - n)
            else:
                history.head = min(len(history.states) - 1, history.head + n)
            state = history.state
            action = action or verb
        elif verb == "reset":
            if history.state:
                history.push({})
            return "reset"
        elif verb in ("none", "clarify"):
            return verb
        else:
            raise ValueError(f"unknown operation {op!r}")
    if edited:
        if state != history.state:
            history.push(state)
        return "edit"
    if action is None:
        raise ValueError("a turn needs at least one operation")
    return action


def gold_states(turn_ops: list[list[str]]) -> list[tuple[str, dict]]:
    history = History()
    return [(apply_ops(history, ops), history.state) for ops in turn_ops]


def parse_text(text: str) -> list[dict]:
    """The annotated text format -> dialogues as spec JSON objects (with ``ops`` per turn)."""
    dialogues: list[dict] = []
    current: dict | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if line.startswith("#"):
            words = line.lstrip("#").split()
            if not words:
                raise ValueError(f"line {n}: a dialogue header needs an id")
            current = {"id": words[0], "tags": words[1:], "turns": []}
            dialogues.append(current)
            continue
        if current is None or "=>" not in line:
            raise ValueError(f"line {n}: expected 'message => operations' inside a dialogue")
        user, ops = line.rsplit("=>", 1)
        current["turns"].append({"user": user.strip(), "ops": [o.strip() for o in ops.split(";") if o.strip()]})
    for d in dialogues:
        try:
            for turn, (action, state) in zip(d["turns"], gold_states([t["ops"] for t in d["turns"]])):
                turn["action"], turn["state"] = action, state
        except ValueError as exc:
            raise ValueError(f"dialogue {d['id']}: {exc}") from None
    return dialogues


def check_jsonl(path: str | Path) -> list[str]:
    """Recompute every turn that has ``ops``; the differences, as messages (empty when all agree)."""
    problems = []
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        d = json.loads(raw)
        turns = d["turns"]
        if not all("ops" in t for t in turns):
            problems.append(f"line {n} ({d['id']}): a turn has no ops to check")
            continue
        try:
            gold = gold_states([t["ops"] for t in turns])
        except ValueError as exc:
            problems.append(f"line {n} ({d['id']}): {exc}")
            continue
        for i, (t, (action, state)) in enumerate(zip(turns, gold)):
            if t["action"] != action or {a: round(v, 4) for a, v in t["state"].items()} != state:
                problems.append(f"line {n} ({d['id']}) turn {i}: file says {t['action']} {t['state']}, the ops give {action} {state}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chatface.evaluation.gold", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="annotated text -> JSONL dialogue set")
    b.add_argument("source")
    b.add_argument("target")
    c = sub.add_parser("check", help="recompute the gold states of a JSONL set from its ops")
    c.add_argument("path")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        dialogues = parse_text(Path(args.source).read_text(encoding="utf-8"))
        with open(args.target, "w", encoding="utf-8") as f:
            for d in dialogues:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        print(f"wrote {len(dialogues)} dialogues, {sum(len(d['turns']) for d in dialogues)} turns to {args.target}")
        return 0
    problems = check_jsonl(args.path)
    for p in problems:
        print(p)
    print("all gold states agree with their ops" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
