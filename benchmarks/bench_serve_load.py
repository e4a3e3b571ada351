"""The web app under a flood (issue 21): a small-photo user's turn latency while others upload big photos.

Run: python benchmarks/bench_serve_load.py [--flooders 3] [--turns 12]. Starts ``chatface serve`` on
127.0.0.1 (a fresh database; loopback only) and drives it with gradio_client, as a browser's requests would:

1. idle: one user on a 0.26-megapixel photo sends ``--turns`` chat edits alone;
2. flood: ``--flooders`` users each upload photos of mixed sizes in a bounded loop (0.3, 1, 6 and 24
   megapixels, as JPEG) and edit them, while the small-photo user sends the same turns again.

Prints p50/p95 of the small user's turn latency idle and under the flood, their ratio (the target: at most
3), the server's peak resident memory, and the requests refused (queue full, over a limit) or failed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _server import free_port, rss, wait_for_port


def _photos(folder: Path) -> dict[str, Path]:
    import cv2
    from PIL import Image
    from skimage import data

    out = {}
    base = data.astronaut()
    for name, side in (("0.3MP", 548), ("1MP", 1000), ("6MP", 2450), ("24MP", 4900)):
        img = cv2.resize(base, (side, side), interpolation=cv2.INTER_CUBIC)
        path = folder / f"photo-{name}.jpg"
        Image.fromarray(img).save(path, quality=92)
        out[name] = path
    small = folder / "small.png"
    Image.fromarray(base).save(small)
    out["small"] = small
    return out


def _rss_watch(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss(pid))
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flooders", type=int, default=3)
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3, help="uploads per flooder (each of the four sizes in turn)")
    args = ap.parse_args()
    from gradio_client import Client, handle_file

    tmp = Path(tempfile.mkdtemp())
    photos = _photos(tmp)
    port = free_port()
    env = {
        **os.environ,
        "CHATFACE_DATABASE_URL": f"sqlite:///{tmp / 'load.db'}",
        "CHATFACE_EMBEDDINGS": "0",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "NO_PROXY": "127.0.0.1,localhost",
        "CHATFACE_HOME": str(tmp),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "chatface.cli", "serve", "--port", str(port)],
        env=env,
        stdout=open(tmp / "serve.log", "w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_port(port)
        stop, peak = threading.Event(), [0]
        threading.Thread(target=_rss_watch, args=(server.pid, stop, peak), daemon=True).start()
        time.sleep(3)  # the engine warms up in the background
        base_rss = peak[0]

        def open_photo(client, path):
            out = client.predict(handle_file(str(path)), "", "Face", api_name="/on_example")  # opens the main face, no picker
            return out[0]  # the session id

        def turns(client, sid, n, latencies):
            history = []
            for i in range(n):
                text = "a bit more lipstick" if i % 2 else "a bit less lipstick"
                t = time.perf_counter()
                out = client.predict(text, history, sid, "Face", api_name="/on_send")
                latencies.append(time.perf_counter() - t)
                if not isinstance(out[1], list):  # no chat update: the status line says why
                    raise RuntimeError(
                        f"turn {i} got no reply: {[o for o in out if isinstance(o, str) and 'Version' in o or '⚠' in str(o)][:2]}"
                    )
                history = out[1]

        small = Client(url, verbose=False)
        sid = open_photo(small, photos["small"])
        small.predict("give her red lipstick", [], sid, "Face", api_name="/on_send")
        idle: list[float] = []
        turns(small, sid, args.turns, idle)

        refused, failed, done = [0], [0], [0]

        def flood(k: int) -> None:
            client = Client(url, verbose=False)
            sizes = ["24MP", "6MP", "1MP", "0.3MP"]
            for r in range(args.rounds):
                try:
                    s = open_photo(client, photos[sizes[(k + r) % len(sizes)]])
                    client.predict("give her a subtle smile and red lipstick", [], s, "Face", api_name="/on_send")
                    done[0] += 1
                except Exception as exc:  # noqa: BLE001 - counted: a refusal is an answer, not a crash
                    (refused if "queue" in str(exc).lower() or "busy" in str(exc).lower() else failed)[0] += 1

        flooders = [threading.Thread(target=flood, args=(k,)) for k in range(args.flooders)]
        for f in flooders:
            f.start()
        time.sleep(1.0)  # the flood is under way
        loaded: list[float] = []
        turns(small, sid, args.turns, loaded)
        for f in flooders:
            f.join()
        stop.set()

        def pct(xs, q):
            return float(np.percentile(xs, q))

        print(
            f"small-photo user, {args.turns} turns each: idle p50 {pct(idle, 50):.2f}s p95 {pct(idle, 95):.2f}s; "
            f"under {args.flooders} flooders p50 {pct(loaded, 50):.2f}s p95 {pct(loaded, 95):.2f}s; "
            f"p95 ratio {pct(loaded, 95) / pct(idle, 95):.2f} (target <= 3)"
        )
        print(
            f"flood: {done[0]} uploads+edits done, {refused[0]} refused, {failed[0]} failed; "
            f"server RSS at rest {base_rss / 2**30:.2f} GB, peak {peak[0] / 2**30:.2f} GB"
        )
        print(f"median small-user turn under load: {statistics.median(loaded):.2f}s")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
