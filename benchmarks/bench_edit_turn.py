"""Time one edit turn (offline planner, offline engine, self-check, memory) on a ~1 megapixel photo.

Run: python benchmarks/bench_edit_turn.py [--turns N]. Prints seconds per stage and per turn.
The photo is scikit-image's astronaut scaled to 1024x1024 (1.05 megapixels).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=10)
    args = ap.parse_args()

    import cv2
    from chatface.agent.session import ChatService
    from chatface.configuration import Configuration
    from PIL import Image
    from skimage import data

    tmp = Path(tempfile.mkdtemp())
    img = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(img).save(tmp / "photo.png")
    t = time.perf_counter()
    chats = ChatService(
        Configuration(engine="offline", planner="offline", use_embeddings=False, database_url=f"sqlite:///{tmp / 'bench.db'}")
    )
    agent = chats.open_photo(tmp / "photo.png", export_dir=tmp)
    print(f"open + invert (models loaded on first use): {time.perf_counter() - t:.2f}s")
    requests = [
        "give her a subtle smile and red lipstick",
        "add glasses",
        "more smile",
        "make her eyes green",
        "a bit of blush",
        "undo",
        "some freckles",
        "make her tanned",
        "less tan",
        "blonde hair",
    ]
    times = []
    for i in range(args.turns):
        msg = requests[i % len(requests)]
        t = time.perf_counter()
        reply = agent.send(msg)
        dt = time.perf_counter() - t
        times.append(dt)
        print(f"{dt:6.3f}s  {msg!r} -> node {reply.head.seq}")
    print(
        f"edit turn on {img.shape[1]}x{img.shape[0]}: mean {statistics.mean(times):.3f}s, "
        f"median {statistics.median(times):.3f}s, max {max(times):.3f}s over {len(times)} turns"
    )


if __name__ == "__main__":
    main()
