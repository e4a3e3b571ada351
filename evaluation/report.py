"""report.md for an intent evaluation: headline table, per-tag table, confusion, failed turns, plots.

Plots are matplotlib PNGs next to the report (Agg backend, no display needed):
accuracy per tag, the action confusion matrix, and the planner latency histogram.
"""

from __future__ import annotations

import json
from pathlib import Path

from .dialogues import ACTIONS
from .scoring import PRED_ACTIONS

HEADLINE = (
    "turn_accuracy",
    "dialogue_success",
    "action_accuracy",
    "attribute_precision",
    "attribute_recall",
    "attribute_f1",
    "sign_accuracy",
    "strength_mae",
)


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _state(s: dict) -> str:
    return json.dumps(s, sort_keys=True) if s else "{}"


def _plots(report: dict, records: list[dict], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    tags = report["per_tag"]
    if tags:
        names = list(tags)
        acc = [tags[t]["turn_accuracy"] or 0.0 for t in names]
        fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names)), 4))
        ax.bar(names, acc, color="#4a7ab5")
        ax.axhline(report["turn_accuracy"] or 0.0, color="#c44", linestyle="--", label="all turns")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("turn accuracy")
        ax.set_title(f"Turn accuracy per tag ({report['planner']})")
        ax.legend(loc="lower right")
        plt.setp(ax.get_xticklabels(), rotation=60, ha="right")
        fig.tight_layout()
        fig.savefig(out / "accuracy_per_tag.png", dpi=110)
        plt.close(fig)
        files.append("accuracy_per_tag.png")

    conf = report["action_confusion"]
    gold = [a for a in ACTIONS if a in conf]
    pred = [a for a in PRED_ACTIONS if any(a in row for row in conf.values())]
    if gold and pred:
        import numpy as np

        m = np.array([[conf[g].get(p, 0) for p in pred] for g in gold])
        fig, ax = plt.subplots(figsize=(1.1 * len(pred) + 2, 0.8 * len(gold) + 1.5))
        ax.imshow(m, cmap="Blues")
        ax.set_xticks(range(len(pred)), pred)
        ax.set_yticks(range(len(gold)), gold)
        ax.set_xlabel("predicted action")
        ax.set_ylabel("gold action")
        for i in range(len(gold)):
            for j in range(len(pred)):
                ax.text(j, i, str(m[i, j]), ha="center", va="center", color="white" if m[i, j] > m.max() / 2 else "black")
        ax.set_title("Action confusion")
        fig.tight_layout()
        fig.savefig(out / "action_confusion.png", dpi=110)
        plt.close(fig)
        files.append("action_confusion.png")

    lat = [r["latency_ms"] for r in records]
    if lat:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist(lat, bins=40, color="#5a9")
        ax.axvline(report["latency_ms"]["median"], color="#333", linestyle="--", label=f"median {report['latency_ms']['median']:.1f} ms")
        ax.set_xlabel("planner latency per turn (ms)")
        ax.set_ylabel("turns")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "latency_hist.png", dpi=110)
        plt.close(fig)
        files.append("latency_hist.png")
    return files


def write_markdown(report: dict, records: list[dict], out: Path) -> Path:
    plots = _plots(report, records, out)
    lines = [f"# Intent evaluation: {report['planner']}", ""]
    status = "complete" if report["complete"] else ("INTERRUPTED: partial report" if report["interrupted"] else "partial")
    lines += [
        f"Dataset `{report['dataset']}`: {report['n_dialogues']} of {report['n_dialogues_in_set']} dialogues, "
        f"{report['n_turns']} turns ({status}). Endpoint errors: {report['endpoint_errors']}.",
        "",
    ]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(report[k])} |" for k in HEADLINE]
    lat, tl = report["latency_ms"], report["turn_latency_ms"]
    lines += [
        f"| planner latency ms (mean / median / max) | {_fmt(lat['mean'])} / {_fmt(lat['median'])} / {_fmt(lat['max'])} |",
        f"| whole turn ms (mean / median / max) | {_fmt(tl['mean'])} / {_fmt(tl['median'])} / {_fmt(tl['max'])} |",
        "",
    ]
    lines += [
        "A turn is correct when the action matches and the state has the gold ids with the same signs, each within 0.15. "
        "Precision and recall count the attribute ids each turn changed; sign accuracy and strength MAE are over ids found correctly.",
        "",
    ]
    if report["per_tag"]:
        lines += [
            "## Per tag",
            "",
            "| tag | dialogues | turns | turn acc | dialogue success | action acc | attr F1 | sign acc | strength MAE |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for tag, s in report["per_tag"].items():
            lines.append(
                f"| {tag} | {s['n_dialogues']} | {s['n_turns']} | {_fmt(s['turn_accuracy'])} | {_fmt(s['dialogue_success'])} | "
                f"{_fmt(s['action_accuracy'])} | {_fmt(s['attribute_f1'])} | {_fmt(s['sign_accuracy'])} | {_fmt(s['strength_mae'])} |"
            )
        lines.append("")
    conf = report["action_confusion"]
    pred = [a for a in PRED_ACTIONS if any(a in row for row in conf.values())]
    lines += [
        "## Action confusion (rows: gold, columns: predicted)",
        "",
        "| gold \\ pred | " + " | ".join(pred) + " |",
        "|---|" + "---|" * len(pred),
    ]
    for g, row in conf.items():
        lines.append(f"| {g} | " + " | ".join(str(row.get(p, 0)) for p in pred) + " |")
    lines.append("")
    for name in plots:
        lines += [f"![{name}]({name})", ""]
    failed = [r for r in records if not r["correct"]]
    lines += [f"## Failed turns ({len(failed)})", ""]
    if failed:
        lines += ["| dialogue | turn | user | gold | predicted |", "|---|---|---|---|---|"]
        for r in failed:
            user = r["user"].replace("|", "\\|")
            err = f" ({r['error'][:80]})" if r.get("error") else ""
            lines.append(
                f"| {r['dialogue_id']} | {r['turn']} | {user} | {r['gold_action']} {_state(r['gold_state'])} | "
                f"{r['pred_action']} {_state(r['pred_state'])}{err} |"
            )
    else:
        lines.append("None.")
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
