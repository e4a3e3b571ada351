"""The web editor with another engine behind the same page: LEDITS++ (a tiny random pipeline: the plumbing, not the look)."""

from __future__ import annotations

import pytest
from helpers import require_extra
from webpage import ARTIFACTS, SLOW, open_page, send, no_error_badges, serve

require_extra("gradio", "serve")
require_extra("playwright", "dev")


def test_the_ledits_engine_behind_the_same_page(browser, tmp_path, tiny_ledits):
    """Issue 14's web check: the LEDITS++ engine (tiny random pipeline: the plumbing, not the look)."""
    pytest.importorskip("diffusers")
    from chatface.memory.store import Store
    from playwright.sync_api import expect

    with serve(tmp_path, "--engine", "ledits", "--models", str(tiny_ledits), "--steps", "6", env={"CHATFACE_MAX_ATTEMPTS": "0"}) as (
        url,
        db,
        log,
    ):
        page = open_page(browser, url)
        status = page.locator("#status")
        page.locator("#example-photos img").nth(0).click()
        expect(status).to_contain_text("Version 0", timeout=SLOW)
        send(page, "add a hat and make her smile")
        expect(status).to_contain_text("Version 1", timeout=SLOW)
        expect(status).to_contain_text("a hat 0.60")
        page.locator("#undo").click()
        expect(status).to_contain_text("Version 0", timeout=SLOW)
        page.screenshot(path=str(ARTIFACTS / "web-ledits.png"), full_page=True)
        no_error_badges(page)
        page.close()
        session = Store(f"sqlite:///{db}").list_sessions()[0]
        assert session.engine == "ledits"
        assert "Traceback" not in log.read_text()
