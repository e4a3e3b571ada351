"""The web app in a real browser: `chatface serve` started as a process, driven by Playwright in headless Chromium.

Upload the astronaut photo, ask for an edit, wait for the edited image and the history node, click
undo, go back to a node through the history gallery, and save a screenshot as a test artefact
(test-artifacts/web-app.png). Needs Debian's chromium (`.ci/run` installs it); skipped locally without it
unless CHATFACE_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture()
def web_server(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CHATFACE_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (Debian package chromium)")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium); .ci/run installs it")
    port = free_port()
    env = {**os.environ, "CHATFACE_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}", "CHATFACE_EMBEDDINGS": "0",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1,localhost"}
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "chatface.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
    except RuntimeError:
        pytest.fail((tmp_path / "server.log").read_text())
    yield f"http://127.0.0.1:{port}", tmp_path / "web.db"
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_upload_chat_undo_and_history_in_a_real_browser(web_server, photo):
    from playwright.sync_api import expect, sync_playwright

    from chatface.memory.store import Store

    url, db = web_server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.goto(url, wait_until="domcontentloaded")
        expect(page.locator("#photo-upload")).to_be_visible(timeout=60_000)
        page.locator("#photo-upload input[type=file]").set_input_files(str(photo))
        status = page.locator("#status")
        expect(status).to_contain_text("Node 0", timeout=120_000)
        expect(page.locator("#before img")).to_be_visible()

        page.locator("#message textarea").fill("give her a subtle smile and red lipstick")
        page.locator("#send").click()
        expect(status).to_contain_text("Node 1", timeout=120_000)
        expect(status).to_contain_text("lipstick +0.60")
        expect(status).to_contain_text("same person")
        expect(page.locator("#chat")).to_contain_text("smiling")
        expect(page.locator("#after img")).to_be_visible()
        expect(page.locator("#history img")).to_have_count(2)

        page.locator("#message textarea").fill("add glasses")  # withdrawn from the offline engine: said, and nothing stored
        page.locator("#send").click()
        expect(page.locator("#chat")).to_contain_text("diffusion engine", timeout=120_000)
        expect(status).to_contain_text("Node 1")

        page.locator("#message textarea").fill("a bit more smile")
        page.locator("#send").click()
        expect(status).to_contain_text("Node 2", timeout=120_000)
        expect(status).to_contain_text("smiling +0.40")
        page.screenshot(path=str(ARTIFACTS / "web-app.png"), full_page=True)

        page.locator("#undo").click()
        expect(status).to_contain_text("Node 1", timeout=60_000)
        expect(status).to_contain_text("smiling +0.30")
        page.locator("#history img").nth(0).click()  # back to the original through the gallery
        expect(status).to_contain_text("Node 0", timeout=60_000)
        page.locator("#redo").click()
        expect(status).to_contain_text("Node 1", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "web-app-after-undo.png"), full_page=True)
        browser.close()

    store = Store(f"sqlite:///{db}")
    (session,) = store.list_sessions()
    assert [n.seq for n in store.nodes(session.id)] == [0, 1, 2]
    assert store.head(session.id).strengths() == {"smiling": 0.3, "lipstick": 0.6}
    assert (ARTIFACTS / "web-app.png").stat().st_size > 50_000
