"""The web editor in a real browser: `chatface serve` started as a process, driven by Playwright in headless Chromium.

Example photo -> chat edit -> slider -> undo -> a click on the current version -> redo -> back to the original;
the errors a new user hits (a send before any photo, a text file named .png, a photo with no face in a running
session); picking one face of a group photo; a phone-sized screen; each result in the chat; a newcomer's first edits.
These tests share one server (the `web` fixture). Screenshots go to test-artifacts/. A long history, a preview, a
message sent while one runs and a reference photo are in test_web_chat.py (a server of its own, so that the two test
workers share the browser tests); the tests that need a server set up otherwise are in test_web_engines.py,
test_web_sessions.py and test_web_access.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_extra
from webpage import ARTIFACTS, SLOW, open_page, upload, send, no_error_badges

require_extra("gradio", "serve")
require_extra("playwright", "dev")


def test_example_chat_slider_undo_and_history(web, browser):
    from chatface.memory.store import Store
    from playwright.sync_api import expect

    url, db, log = web
    page = open_page(browser, url)
    status = page.locator("#status")
    page.locator("#example-photos img").nth(0).click()  # the astronaut
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    expect(page.locator("#compare img").first).to_be_visible()

    send(page, "give her a subtle smile and red lipstick")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    expect(status).to_contain_text("lipstick 0.60")
    chat = page.locator("#chat")
    expect(chat).to_contain_text("Done: lipstick (medium) and smile (subtle). It still looks like the same person.")
    expect(chat).to_contain_text("Details: checks and attempts")  # the numbers, folded
    assert "distance" not in chat.locator(".message").last.inner_text().split("Details")[0]
    expect(page.locator("#message textarea")).to_have_value("")
    expect(page.locator("#slider-0")).to_contain_text("lipstick")
    expect(page.locator("#slider-1")).to_contain_text("a smile")
    page.screenshot(path=str(ARTIFACTS / "web-edit.png"), full_page=True)

    # a slider is an edit like a chat turn: checked, stored, said in the chat
    slider = page.locator("#slider-1 input[type=range]")
    slider.fill("0.6")
    slider.dispatch_event("pointerup")
    expect(status).to_contain_text("Version 2", timeout=SLOW)
    expect(status).to_contain_text("a smile 0.60")
    expect(chat).to_contain_text("🎚 a smile 0.60")

    # add an attribute from the vocabulary: a new slider at 0, applied when moved
    page.locator("#add-attribute input").fill("lipstick")
    page.keyboard.press("Enter")
    page.locator("#undo").click()
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    expect(chat).to_contain_text("Now at version 1")
    current = page.locator("#history .thumbnail-item.selected")
    expect(current).to_contain_text("▶ current · 1")
    expect(page.locator("#history")).to_contain_text("undone · 2")

    # a click on the version that is already current changes nothing, and redo still works
    page.locator("#history .thumbnail-item").nth(1).click()
    expect(chat).to_contain_text("already the current one", timeout=SLOW)
    page.locator("#redo").click()
    expect(status).to_contain_text("Version 2", timeout=SLOW)
    page.locator("#history .thumbnail-item").nth(0).click()  # back to the original
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    page.locator("#zoom").get_by_text("Whole photo").click()
    page.screenshot(path=str(ARTIFACTS / "web-history.png"), full_page=True)
    no_error_badges(page)
    page.close()

    store = Store(f"sqlite:///{db}")
    session = store.list_sessions()[0]  # newest first
    assert [n.seq for n in store.nodes(session.id)] == [0, 1, 2]
    assert store.node(session.id, 2).strengths() == {"smiling": 0.6, "lipstick": 0.6}
    assert store.head(session.id).seq == 0
    assert "Traceback" not in log.read_text()


def test_errors_are_one_line_and_lose_nothing(web, browser, tmp_path):
    from chatface.models.images import save_image
    from playwright.sync_api import expect

    url, _, log = web
    page = open_page(browser, url)
    status = page.locator("#status")
    # before any photo, the controls that need one are off; the message box is open, and a request sent now is
    # answered with what to do first and stays in the box
    for control in ("#undo", "#redo", "#download"):
        expect(page.locator(control)).to_be_disabled()
    page.locator("#example-requests button").first.click()
    expect(page.locator("#message textarea")).to_be_enabled()
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text("Upload a photo (or click an example photo) first", timeout=SLOW)
    expect(page.locator("#message textarea")).to_have_value("give her a subtle smile and red lipstick")

    fake = tmp_path / "notes.png"
    fake.write_text("these are my notes, not a picture")
    upload(page, fake)
    expect(status).to_contain_text("⚠️", timeout=SLOW)
    expect(status).to_contain_text("notes.png")
    assert "UnidentifiedImageError" not in status.inner_text() and "/tmp" not in status.inner_text()
    no_error_badges(page)

    page.locator("#example-photos img").nth(1).click()
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    before = page.locator("#compare img").first.get_attribute("src")
    wall = tmp_path / "wall.png"
    save_image(np.full((200, 300, 3), 180, np.uint8), wall)
    upload(page, wall)
    expect(status).to_contain_text("No face found in wall.png", timeout=SLOW)
    expect(status).to_contain_text("the current photo stays")
    assert page.locator("#compare img").first.get_attribute("src") == before  # the page still shows the session's photo
    send(page, "make him smile a little")
    expect(status).to_contain_text("Version 1", timeout=SLOW)  # the edit went to the session's photo
    no_error_badges(page)
    page.screenshot(path=str(ARTIFACTS / "web-errors.png"), full_page=True)
    page.close()
    assert "Traceback" not in log.read_text()


def test_a_group_photo_asks_which_face_and_edits_that_one(web, browser):
    from chatface.memory import blobs
    from chatface.memory.store import Store
    from playwright.sync_api import expect

    url, db, _ = web
    page = open_page(browser, url)
    status = page.locator("#status")
    page.locator("#example-photos img").nth(0).click()  # a session first: a picker must not let a request reach it
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    page.locator("#example-photos img[src$='/group.jpg']").click()  # the group photo
    expect(status).to_contain_text("has 6 faces: click the one to edit", timeout=SLOW)
    picker = page.locator("#face-picker img")
    expect(picker).to_be_visible()
    # one clear step: the numbered faces replace the comparison, and the chat waits for a face
    expect(page.locator("#compare")).to_be_hidden()
    expect(page.locator("#message textarea")).to_be_disabled()
    expect(page.locator("#send")).to_be_disabled()
    assert picker.bounding_box()["y"] < page.locator("#zoom").bounding_box()["y"]  # where the photo was, not below it
    page.screenshot(path=str(ARTIFACTS / "web-pick-a-face.png"), full_page=True)
    box = picker.bounding_box()
    # the face at x 60..180, y 273..393 of the 1280x886 photo (the one on the far left)
    picker.click(position={"x": box["width"] * 120 / 1280, "y": box["height"] * 333 / 886})
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    expect(picker).to_be_hidden()
    expect(page.locator("#compare")).to_be_visible()
    expect(page.locator("#message textarea")).to_be_enabled()
    page.close()
    store = Store(f"sqlite:///{db}")
    session = store.list_sessions()[0]  # newest first
    _, meta = blobs.unpack_arrays(store.read_blob(store.get_session(session.id).latent_blob))
    x0, y0, x1, y1 = meta["box"]
    assert x0 < 120 < x1 and y0 < 333 < y1


def test_the_page_works_on_a_phone_sized_screen(web, browser):
    from playwright.sync_api import expect

    url, _, _ = web
    page = open_page(browser, url, width=390, height=844)
    page.locator("#example-photos img").nth(0).click()
    expect(page.locator("#status")).to_contain_text("Version 0", timeout=SLOW)
    send(page, "add a bit of lipstick")
    expect(page.locator("#status")).to_contain_text("Version 1", timeout=SLOW)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the screen
    compare, chat = page.locator("#compare").bounding_box(), page.locator("#chat").bounding_box()
    assert compare["width"] >= 300 and compare["y"] < chat["y"]  # the before/after first, at full width
    page.screenshot(path=str(ARTIFACTS / "web-phone.png"), full_page=True)
    page.close()


def _chat_pictures(page) -> list[str]:
    return [(img.get_attribute("src") or "").rsplit("/", 1)[-1].split("-")[:3] for img in page.locator("#chat img").all()]


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_each_result_is_in_the_chat_in_one_vocabulary_and_a_reload_shows_it_as_shown(web, browser, width, height):
    """Issue 23: a small before/after beside each reply; "version" everywhere; sliders rounded as the replies are;
    undo and redo only where they lead somewhere; a reload shows the conversation exactly as it was shown."""
    from playwright.sync_api import expect

    url, _, log = web
    page = open_page(browser, url, width=width, height=height)
    status, chat = page.locator("#status"), page.locator("#chat")
    page.locator("#example-photos img").nth(0).click()
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    expect(page.locator("#undo")).to_be_disabled()  # at the original photo: nowhere to go
    expect(page.locator("#redo")).to_be_disabled()
    send(page, "give her a subtle smile and red lipstick")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    expect(chat.locator("img[src*='/version0-to-version1-']")).to_be_visible(timeout=SLOW)
    picture = chat.locator("img").last.bounding_box()
    assert picture["width"] <= width and picture["height"] <= 200  # small, beside the reply
    expect(page.locator("#undo")).to_be_enabled()
    expect(page.locator("#redo")).to_be_disabled()
    reply = chat.inner_text()
    values = {page.locator(f"#slider-{i} input[type=number]").input_value() for i in range(2)}
    assert values == {"0.6", "0.3"} and "lipstick 0.60" in status.inner_text()  # rounded the same way as the replies
    assert "Done: lipstick (medium) and smile (subtle)" in reply

    send(page, "undo")
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    expect(chat).to_contain_text("Went back 1 step to version 0")
    assert "node" not in chat.inner_text() and "step(s)" not in chat.inner_text()
    expect(page.locator("#redo")).to_be_enabled()
    expect(chat.locator("img[src*='/version1-to-version0-']")).to_be_attached(timeout=SLOW)
    page.screenshot(path=str(ARTIFACTS / f"web-chat-results-{width}.png"), full_page=True)
    shown, pictures = chat.inner_text(), _chat_pictures(page)

    page.reload(wait_until="domcontentloaded")
    expect(status).to_contain_text("where you left off", timeout=SLOW)
    expect(chat.locator("img[src*='/version1-to-version0-']")).to_be_attached(timeout=SLOW)
    assert chat.inner_text() == shown and _chat_pictures(page) == pictures
    page.screenshot(path=str(ARTIFACTS / f"web-chat-reloaded-{width}.png"), full_page=True)
    no_error_badges(page)
    page.close()
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_a_newcomer_picks_a_face_edits_it_reloads_and_carries_on(web, browser, width, height):
    """Issue 23's "done when", at laptop and phone sizes, without reading anything: the photo with two faces, a click
    on one, a request, a slider added and moved (its hint follows), a reload, and the next request."""
    from playwright.sync_api import expect

    url, _, log = web
    page = open_page(browser, url, width=width, height=height)
    status, chat = page.locator("#status"), page.locator("#chat")
    page.locator("#example-photos img[src$='/two-faces.jpg']").click()
    expect(status).to_contain_text("has 2 faces: click the one to edit", timeout=SLOW)
    picker = page.locator("#face-picker img")
    picker.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"web-newcomer-pick-{width}.png"))
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.3})  # the astronaut, on the right
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    send(page, "give her a subtle smile and red lipstick")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    expect(chat.locator("img[src*='/version0-to-version1-']")).to_be_visible(timeout=SLOW)

    page.locator("#add-attribute input").fill("blush")
    page.keyboard.press("Enter")
    hinted = page.locator("#sliders").get_by_text("not applied yet")
    expect(hinted).to_be_visible(timeout=SLOW)
    slider = page.locator("#slider-2 input[type=range]")
    slider.fill("0.4")
    slider.dispatch_event("pointerup")
    expect(status).to_contain_text("Version 2", timeout=SLOW)
    expect(hinted).to_have_count(0)  # applied: the hint is gone
    page.screenshot(path=str(ARTIFACTS / f"web-newcomer-edited-{width}.png"), full_page=True)

    shown = chat.inner_text()
    page.reload(wait_until="domcontentloaded")
    expect(status).to_contain_text("Version 2", timeout=SLOW)
    expect(chat.locator("img[src*='/version1-to-version2-']")).to_be_attached(timeout=SLOW)
    assert chat.inner_text() == shown
    send(page, "a bit more lipstick")
    expect(status).to_contain_text("Version 3", timeout=SLOW)
    expect(chat.locator("img[src*='/version2-to-version3-']")).to_be_visible(timeout=SLOW)
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(ARTIFACTS / f"web-newcomer-carried-on-{width}.png"), full_page=True)
    no_error_badges(page)
    page.close()
    assert "Traceback" not in log.read_text()
