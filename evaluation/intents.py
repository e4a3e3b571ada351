"""Replaying dialogue sets through the real agent and scoring what it did.

Each dialogue gets a fresh session in a throw-away SQLite database. Its turns
go through ChatAgent.send, so the planner's tool calls run against the real
tools and memory: undo, redo, reset and relative changes are scored on the
state the system actually reached. Sessions are unrendered (no images, no
models), which makes this a test of understanding, not of the engine.

The predicted action of a turn comes from the tools that ran: apply_attribute
-> edit (also after an undo in the same turn), else reset / undo / redo; with
no tool call, clarify when the reply asks what to change, none otherwise. An
endpoint error counts as the action "error" and the dialogue goes on.
Predictions are written as they come, so Ctrl-C leaves a valid partial report.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from ..agent.session import ChatService, PlannerError
from ..configuration import Configuration
from .dialogues import Dialogue
from .scoring import confusion, latency_summary, per_tag, summarize, turn_correct

_QUESTION = re.compile(r"\b(what|which|how|could you|can you|do you|would you|should i)\b[^.!?]*\?", re.I)
_ABOUT_EDITING = re.compile(r"\b(change|edit|mean|like|want|specific|clarify|prefer|adjust|do)\b", re.I)
_OPEN_OFFER = re.compile(r"\b(anything|something) else\b", re.I)


def asks_to_clarify(reply: str) -> bool:
    """True when a reply without tool calls asks the user what to change (the spec's ``clarify``)."""
    return bool(_QUESTION.search(reply) and _ABOUT_EDITING.search(reply) and not _OPEN_OFFER.search(reply))


def predicted_action(tool_names: list[str], reply: str) -> str:
    if "apply_attribute" in tool_names:
        return "edit"
    for name in ("reset", "undo", "redo"):
        if name in tool_names:
            return name
    if "checkout" in tool_names:  # "go back to the version with lipstick": a step back in the spec's actions
        return "undo"
    return "clarify" if asks_to_clarify(reply) else "none"


class PlannerTimer(BaseCallbackHandler):
    """Sums the wall time of every chat-model call in a turn (the planner's latency)."""

    def __init__(self) -> None:
        self.started: dict[Any, float] = {}
        self.total_s = 0.0
        self.calls = 0

    def reset(self) -> None:
        self.started.clear()
        self.total_s, self.calls = 0.0, 0

    def on_chat_model_start(self, serialized, messages, *, run_id, **kwargs) -> None:
        self.started[run_id] = time.perf_counter()

    def _stop(self, run_id) -> None:
        t0 = self.started.pop(run_id, None)
        if t0 is not None:
            self.total_s += time.perf_counter() - t0
            self.calls += 1

    def on_llm_end(self, response, *, run_id, **kwargs) -> None:
        self._stop(run_id)

    def on_llm_error(self, error, *, run_id, **kwargs) -> None:
        self._stop(run_id)


def planner_label(config: Configuration) -> str:
    if config.planner == "openai":
        return f"openai:{config.model}" + (f"@{config.base_url}" if config.base_url else "")
    return "offline" + ("" if config.use_embeddings else " (no embeddings)")


def run_dialogue(dialogue: Dialogue, chats: ChatService, timer: PlannerTimer) -> list[dict]:
    """Play one dialogue in a fresh unrendered session; one record per turn."""
    agent = chats.unrendered(title=f"eval {dialogue.id}")
    editor = agent.editor
    records = []
    gold_prev: dict[str, float] = {}
    pred_prev: dict[str, float] = {}
    for i, turn in enumerate(dialogue.turns):
        timer.reset()
        t0 = time.perf_counter()
        error = ""
        try:
            reply = agent.send(turn.user, callbacks=[timer])
            names = [c["name"] for c in reply.tool_calls]
            action = predicted_action(names, reply.text)
            text, head = reply.text, reply.head
        except PlannerError as exc:
            names, action, text, error = [], "error", "", str(exc)
            head = editor.head()  # nothing was stored: the state is what it was
        turn_ms = (time.perf_counter() - t0) * 1000
        pred_state = {a: round(v, 4) for a, v in head.strengths().items()}
        records.append(
            {
                "dialogue_id": dialogue.id,
                "turn": i,
                "user": turn.user,
                "tags": dialogue.tags,
                "gold_action": turn.action,
                "gold_state": turn.state,
                "pred_action": action,
                "pred_state": pred_state,
                "correct": turn_correct(turn.action, turn.state, action, pred_state),
                "latency_ms": round(timer.total_s * 1000, 3),
                "turn_ms": round(turn_ms, 3),
                "planner_calls": timer.calls,
                "tool_calls": names,
                "reply": text,
                "error": error,
                "gold_prev_state": gold_prev,
                "pred_prev_state": pred_prev,
            }
        )
        gold_prev, pred_prev = turn.state, pred_state
    return records


PREDICTION_KEYS = (
    "dialogue_id",
    "turn",
    "user",
    "gold_action",
    "gold_state",
    "pred_action",
    "pred_state",
    "correct",
    "latency_ms",
    "turn_ms",
    "tool_calls",
    "reply",
    "error",
    "tags",
)


def build_report(records: list[dict], *, planner: str, dataset: str, n_dialogues_in_set: int, interrupted: bool) -> dict:
    report = summarize(records)
    report.update(
        {
            "planner": planner,
            "dataset": dataset,
            "n_dialogues_in_set": n_dialogues_in_set,
            "complete": not interrupted and report["n_dialogues"] == n_dialogues_in_set,
            "interrupted": interrupted,
            "latency_ms": latency_summary([r["latency_ms"] for r in records]),
            "turn_latency_ms": latency_summary([r["turn_ms"] for r in records]),
            "endpoint_errors": sum(r["pred_action"] == "error" for r in records),
            "action_confusion": confusion(records),
            "per_tag": per_tag(records),
        }
    )
    return report


def evaluate_intents(
    dialogues: list[Dialogue], config: Configuration, out_dir: str | Path, *, dataset: str = "", planner=None, progress: bool = True
) -> dict:
    """Run every dialogue, write report.json, predictions.jsonl and report.md into ``out_dir``; returns the report."""
    from .report import write_markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    label = planner_label(config)
    timer = PlannerTimer()
    records: list[dict] = []
    interrupted = False
    total_turns = sum(len(d.turns) for d in dialogues)
    with tempfile.TemporaryDirectory(prefix="chatface-eval-") as tmp, open(out / "predictions.jsonl", "w", encoding="utf-8") as pred_file:
        # a throw-away database; the planner and the graph are built once for all dialogues
        chats = ChatService(config.with_overrides(database_url=f"sqlite:///{Path(tmp) / 'eval.db'}"), planner=planner)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total_turns, unit="turn", desc=f"eval {label}", dynamic_ncols=True)
        try:
            for d in dialogues:
                for r in run_dialogue(d, chats, timer):
                    records.append(r)
                    pred_file.write(json.dumps({k: r[k] for k in PREDICTION_KEYS}, ensure_ascii=False) + "\n")
                    pred_file.flush()
                    if bar is not None:
                        bar.update(1)
                if bar is not None:
                    done = sum(r["correct"] for r in records)
                    bar.set_postfix(accuracy=f"{done / len(records):.3f}")
        except KeyboardInterrupt:
            interrupted = True
            # a dialogue cut off half-way would count its missing turns as neither right nor wrong: drop it
            last = records[-1]["dialogue_id"] if records else None
            if last is not None:
                expected = next(len(d.turns) for d in dialogues if d.id == last)
                if sum(r["dialogue_id"] == last for r in records) < expected:
                    records = [r for r in records if r["dialogue_id"] != last]
        finally:
            if bar is not None:
                bar.close()
            chats.service.close()
    if interrupted:  # rewrite predictions without the partial dialogue
        with open(out / "predictions.jsonl", "w", encoding="utf-8") as pred_file:
            for r in records:
                pred_file.write(json.dumps({k: r[k] for k in PREDICTION_KEYS}, ensure_ascii=False) + "\n")
    report = build_report(records, planner=label, dataset=dataset, n_dialogues_in_set=len(dialogues), interrupted=interrupted)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_markdown(report, records, out)
    return report
