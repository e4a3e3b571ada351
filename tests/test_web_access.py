"""Who reaches the web editor and how much it takes at once: the user named by a trusted proxy's header, and a full
queue that answers busy at once.
"""

from __future__ import annotations

import pytest
from helpers import require_extra
from webpage import SLOW, serve

require_extra("gradio", "serve")
require_extra("playwright", "dev")


def test_behind_a_proxy_the_user_comes_from_the_trusted_header(browser, tmp_path):
    """--trusted-header: the proxy's login names the user; a request without the header gets no page."""
    import urllib.error
    import urllib.request

    from chatface.memory.store import Store
    from playwright.sync_api import expect

    with serve(tmp_path, "--trusted-header", "X-Auth-User") as (url, db, log):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers={"X-Auth-User": "Zoe"})
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        expect(page.locator("#upload")).to_be_visible(timeout=60_000)
        page.locator("#example-photos img").nth(0).click()
        expect(page.locator("#status")).to_contain_text("Version 0", timeout=SLOW)
        context.close()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url + "/config"), timeout=30)
        assert refused.value.code == 401
        store = Store(f"sqlite:///{db}")
        assert [s.owner for s in store.list_sessions()] == ["user:zoe"]
        store.close()
        assert "Traceback" not in log.read_text()


def test_a_full_queue_answers_busy_and_the_requests_it_took_are_answered(tmp_path):
    """With a queue of 1, opening photos (one at a time for everyone) from five clients at once: each request is
    either answered with its new session or refused at once with Gradio's "queue is full, try again" (HTTP 503),
    never left waiting without bound; and the server then still answers."""
    import threading

    from gradio_client import Client, handle_file
    from PIL import Image
    from skimage import data

    photo = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    with serve(tmp_path, env={"CHATFACE_QUEUE_SIZE": "1"}) as (url, _, _):
        answers: list[str] = []
        clients = [Client(url, verbose=False) for _ in range(6)]
        together = threading.Barrier(5)

        def open_one(client, wait=True):
            if wait:
                together.wait(timeout=60)
            try:
                out = client.predict(handle_file(str(photo)), "", "Face", api_name="/on_example")
                answers.append("session" if out[0] else "no session")
            except Exception as exc:  # noqa: BLE001 - the refusal is what is tested
                answers.append("busy" if "queue is full" in str(exc).lower() else f"failed: {exc}")

        threads = [threading.Thread(target=open_one, args=(c,)) for c in clients[:5]]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert sorted(set(answers)) == ["busy", "session"], answers
        assert answers.count("session") >= 2  # the one running and the one queued
        open_one(clients[5], wait=False)
        assert answers[-1] == "session"  # the refusals left nothing stuck
