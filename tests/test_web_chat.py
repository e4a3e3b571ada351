"""The web editor's chat in a real browser, on a server of its own (the `web` fixture of this module): a long history
keeps the current version in view, a slider move previewed before it is stored, a message sent while one runs, and
a reference photo beside the chat ("give her the lipstick of this photo").
"""

from __future__ import annotations

from helpers import require_extra
from webpage import ARTIFACTS, SLOW, no_error_badges, open_page, send, upload

require_extra("gradio", "serve")
require_extra("playwright", "dev")


def test_a_long_history_keeps_the_current_version_in_view(web, browser):
    from playwright.sync_api import expect

    url, _, _ = web
    page = open_page(browser, url, width=1366, height=900)
    status = page.locator("#status")
    page.locator("#example-photos img").nth(0).click()
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    send(page, "add a bit of lipstick")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    for i in range(2, 16):
        send(page, "more" if i % 2 else "less")
        expect(status).to_contain_text(f"Version {i}", timeout=SLOW)
    current = page.locator("#history .thumbnail-item.selected")
    expect(current).to_contain_text("▶ current · 15")
    page.wait_for_timeout(500)  # the scroll runs after the redraw
    shown, box = page.locator("#history").bounding_box(), current.bounding_box()
    assert shown["y"] <= box["y"] and box["y"] + box["height"] <= shown["y"] + shown["height"] + 1, (shown, box)
    page.screenshot(path=str(ARTIFACTS / "web-long-history.png"), full_page=True)
    page.close()


def test_a_slider_move_can_be_previewed_before_it_is_applied(web, browser):
    from playwright.sync_api import expect

    url, _, log = web
    page = open_page(browser, url, width=1366, height=900)
    status = page.locator("#status")
    page.locator("#example-photos img").nth(1).click()  # Grace Hopper
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    send(page, "make her smile a little")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    page.locator("#preview-mode input").check()
    slider = page.locator("#slider-0 input[type=range]")
    slider.fill("0.7")
    slider.dispatch_event("pointerup")
    expect(status).to_contain_text("Preview (not applied)", timeout=SLOW)
    expect(status).to_contain_text("a smile 0.70")
    expect(page.locator("#history .thumbnail-item")).to_have_count(2)  # nothing stored
    page.screenshot(path=str(ARTIFACTS / "web-preview.png"), full_page=True)
    page.locator("#apply-preview").click()
    expect(status).to_contain_text("Version 2", timeout=SLOW)
    expect(status).to_contain_text("a smile 0.70")
    expect(page.locator("#preview-actions")).to_be_hidden()

    slider.fill("0.2")
    slider.dispatch_event("pointerup")
    expect(status).to_contain_text("Preview (not applied)", timeout=SLOW)
    page.locator("#discard-preview").click()
    expect(status).to_contain_text("Preview discarded: nothing was stored", timeout=SLOW)
    expect(status).to_contain_text("Version 2")
    expect(page.locator("#slider-0 input[type=number]")).to_have_value("0.7")
    expect(page.locator("#history .thumbnail-item")).to_have_count(3)
    no_error_badges(page)
    page.close()
    assert "Traceback" not in log.read_text()


def test_a_message_cannot_vanish_while_one_runs(web, browser, tmp_path):
    """Issue 21: while a request runs, Send and the box are off, with the typed text kept; afterwards both are back."""
    import cv2
    from playwright.sync_api import expect
    from skimage import data

    from chatface.models.images import save_image

    url, _, _ = web
    big = tmp_path / "big.png"
    save_image(cv2.resize(data.astronaut(), (2400, 2400), interpolation=cv2.INTER_CUBIC), big)  # slow enough to watch
    page = open_page(browser, url)
    status = page.locator("#status")
    upload(page, big)
    expect(status).to_contain_text("Version 0", timeout=SLOW)
    send(page, "give her a subtle smile and red lipstick")
    expect(page.locator("#send")).to_be_disabled(timeout=5_000)
    expect(page.locator("#message textarea")).to_be_disabled()
    expect(page.locator("#message textarea")).to_have_value("give her a subtle smile and red lipstick")
    expect(status).to_contain_text("Version 1", timeout=SLOW)
    expect(page.locator("#send")).to_be_enabled()
    expect(page.locator("#message textarea")).to_be_enabled()
    expect(page.locator("#message textarea")).to_have_value("")  # answered, so cleared
    page.close()


def test_a_reference_photo_beside_the_chat_gives_its_lipstick(web, browser, tmp_path):
    """Issue 26: a reference photo dropped beside the chat is what "the lipstick of this photo" means; the reply says
    what was taken, the version is stored like any edit, and a reference that is not a photo is one line that loses
    nothing."""
    import numpy as np
    from playwright.sync_api import expect
    from skimage import data

    from chatface.models.base import EditSpec
    from chatface.models.engines.catalog import load_engine
    from chatface.models.images import save_image

    url, _, log = web
    engine = load_engine("offline").generator
    astronaut = data.astronaut()
    painted = engine.decode(astronaut, engine.invert(astronaut), {"lipstick": EditSpec(0.9, 500)})
    reference = tmp_path / "red-lips.png"
    save_image(np.asarray(painted), reference)
    for attached in (reference, tmp_path / "notes.png"):
        page = open_page(browser, url)
        status = page.locator("#status")
        page.locator("#example-photos img").nth(1).click()  # Grace Hopper
        expect(status).to_contain_text("Version 0", timeout=SLOW)
        if attached.name == "notes.png":
            attached.write_text("not an image")
        page.locator("#reference input[type=file]").set_input_files(str(attached))
        send(page, "give her the lipstick of this photo")
        if attached == reference:
            expect(status).to_contain_text("Version 1", timeout=SLOW)
            expect(page.locator("#chat")).to_contain_text("From the reference photo: lipstick (strong) in its colour")
            expect(page.locator("#history .thumbnail-item")).to_have_count(2)
            page.screenshot(path=str(ARTIFACTS / "web-reference.png"), full_page=True)
        else:
            expect(status).to_contain_text("the reference photo cannot be used", timeout=SLOW)
            expect(page.locator("#message textarea")).to_have_value("give her the lipstick of this photo")  # kept
            expect(page.locator("#history .thumbnail-item")).to_have_count(1)  # nothing stored
        no_error_badges(page)
        page.close()
    assert "Traceback" not in log.read_text()
