"""Memory of MCP over streamable HTTP under many sessions (issue 21): 100 ``invert`` calls, each a new session.

Run: python benchmarks/bench_mcp_memory.py [--calls 100] [--cache-mb 256]. Starts ``chatface mcp --transport
http`` on 127.0.0.1 with a fresh database and CHATFACE_CACHE_MB, opens ``--calls`` sessions on a 1-megapixel
photo through the official mcp client, and prints the server's resident memory after 1, 10, 50 and all calls:
it levels off at about the start plus the cache budget, instead of growing with every session.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _server import free_port, rss, wait_for_port


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--cache-mb", type=float, default=256)
    args = ap.parse_args()
    import anyio
    import cv2
    from mcp import Client
    from PIL import Image
    from skimage import data

    tmp = Path(tempfile.mkdtemp())
    photo = tmp / "photo.png"
    Image.fromarray(cv2.resize(data.astronaut(), (1000, 1000), interpolation=cv2.INTER_CUBIC)).save(photo)
    port = free_port()
    env = {**os.environ, "CHATFACE_DATABASE_URL": f"sqlite:///{tmp / 'mcp.db'}", "CHATFACE_CACHE_MB": str(args.cache_mb)}
    server = subprocess.Popen(
        [sys.executable, "-m", "chatface.cli", "mcp", "--transport", "http", "--port", str(port), "--allow-dir", str(tmp)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        payload = base64.b64encode(photo.read_bytes()).decode()
        marks = {1, 10, 50, args.calls}

        async def run():
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
                first = None
                for i in range(1, args.calls + 1):
                    r = await client.call_tool("invert", {"image_base64": payload})
                    assert not r.is_error, r
                    if first is None:
                        first = rss(server.pid)
                    if i in marks:
                        print(f"after {i:3d} invert calls: server RSS {rss(server.pid) / 2**20:7.1f} MB")
                return first

        first = anyio.run(run)
        print(
            f"growth from the first call to the last: {(rss(server.pid) - first) / 2**20:.1f} MB "
            f"(cache budget {args.cache_mb:g} MB; each session holds a {3 * 1000 * 1000 / 2**20:.1f} MB decoded photo)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
