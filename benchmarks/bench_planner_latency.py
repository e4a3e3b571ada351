"""Offline planner latency per turn on the development set (targets, issue 12: median <= 1 ms, p95 <= 5 ms).

Replays evaluation/data/dialogues.jsonl through the real agent with unrendered
sessions, as `chatface eval intents` does, after one warm-up turn that loads
the sentence-embedding model (numpy MiniLM; the phrase matrix comes from the
user cache after the first run). Prints the planner's own time per turn (every
chat-model call of the turn) and the whole turn (graph, tools, SQLite), plus
the bare parse time of IntentParser.

    python benchmarks/bench_planner_latency.py [DIALOGUES.jsonl] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dialogues", nargs="?", default=str(Path(__file__).resolve().parents[1] / "evaluation" / "data" / "dialogues.jsonl"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-embeddings", action="store_true")
    args = ap.parse_args()

    from chatface.agent.planners.offline import OfflinePlanner
    from chatface.configuration import Configuration
    from chatface.evaluation.dialogues import load_dialogues
    from chatface.evaluation.intents import evaluate_intents

    dialogues = load_dialogues(args.dialogues)
    planner = OfflinePlanner(use_embeddings=not args.no_embeddings)
    t0 = time.perf_counter()
    parser = planner._parser()
    if parser.embedder is not None:
        parser.embedder("warm up the sentence embeddings")
    print(f"warm-up (load MiniLM): {time.perf_counter() - t0:.2f} s")

    config = Configuration().with_overrides(planner="offline", use_embeddings=not args.no_embeddings)
    planner_ms, turn_ms = [], []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            report = evaluate_intents(dialogues, config, out, planner=planner, progress=False)
            import json

            for line in Path(out, "predictions.jsonl").read_text().splitlines():
                r = json.loads(line)
                planner_ms.append(r["latency_ms"])
                turn_ms.append(r["turn_ms"])

    texts = [t.user for d in dialogues for t in d.turns]
    parse_ms = []
    for text in texts:
        t = time.perf_counter()
        parser.parse(text, {"smiling": 0.6}, ["smiling"])
        parse_ms.append((time.perf_counter() - t) * 1000)

    def line(name, xs):
        xs = sorted(xs)
        p95 = xs[int(0.95 * (len(xs) - 1))]
        print(
            f"{name:<28} median {statistics.median(xs):7.2f} ms  mean {statistics.fmean(xs):7.2f} ms  p95 {p95:7.2f} ms  max "
            f"{max(xs):7.2f} ms  (n={len(xs)})"
        )

    print(f"{len(dialogues)} dialogues, {len(texts)} turns, turn accuracy {report['turn_accuracy']}")
    line("planner per turn", planner_ms)
    line("whole turn (graph+SQLite)", turn_ms)
    line("IntentParser.parse", parse_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
