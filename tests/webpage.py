"""The web editor's browser tests' common parts: `chatface serve` as a process, a page in headless Chromium, and the
steps every test takes (upload, send, log in, check for error badges).

Needs Debian's chromium (`.ci/run` installs it); a test is skipped locally without it unless CHATFACE_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port, wait_for_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SLOW = 120_000  # ms: an edit on a loaded CI machine


def need_chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CHATFACE_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (Debian package chromium)")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium); .ci/run installs it")


@contextmanager
def serve(tmp: Path, *args: str, env: dict | None = None, port: int | None = None):
    port = port or free_port()
    env = {
        **os.environ,
        "CHATFACE_DATABASE_URL": f"sqlite:///{tmp / 'web.db'}",
        "CHATFACE_EMBEDDINGS": "0",
        "CHATFACE_HOME": str(tmp / "home"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        **(env or {}),
    }
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chatface.cli", "serve", "--port", str(port), *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            try:
                wait_for_port(port, proc, timeout=180)
            except RuntimeError:
                pytest.fail(log_path.read_text())
            yield f"http://127.0.0.1:{port}", tmp / "web.db", log_path
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def open_page(browser, url, width=1400, height=1000):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    expect(page.locator("#upload")).to_be_visible(timeout=60_000)
    return page


def upload(page, path):
    with page.expect_file_chooser() as chooser:
        page.locator("#upload").click()
    chooser.value.set_files(str(path))


def send(page, text):
    page.locator("#message textarea").fill(text)
    page.locator("#send").click()


def no_error_badges(page):
    """Errors are one line in the status or the chat: no component is left in Gradio's error state, no error toast."""
    assert page.locator(".toast-body.error").count() == 0
    assert page.locator("[data-testid='status-tracker'].error, .wrap.error").count() == 0


def login(context, url, name, password):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("input[type=text]").first.fill(name)
    page.locator("input[type=password]").fill(password)
    page.locator("button", has_text="Login").click()
    expect(page.locator("#upload")).to_be_visible(timeout=60_000)
    return page
