"""The home page in a real browser: draw on it at once, on a desktop and on a phone, and see a reading.

Screenshots: artifacts/screenshots/home.png and home_phone.png (the README shows the first).
"""

from __future__ import annotations

import time

import pytest

from tests.harness.browser import (
    assert_no_exception,
    canvas_box,
    link_labels,
    metric_value,
    mouse_stroke,
    open_page,
    save_screenshot,
    sidebar_links,
    touch_stroke,
    wait_for_idle,
    wait_until,
)
from tests.harness.drawings import make_drawings

pytestmark = pytest.mark.e2e  # a real browser against a real server

PAGES = ["Train", "Evaluate", "Draw"]
FIRST_READING_TIMEOUT = 180.0  # a fresh server imports TensorFlow and loads the model meanwhile
PICTURES_TIMEOUT = 300.0  # the warm-up's training of the Digits preset, on a busy 2-core machine
PLACEHOLDER = "Drawing this picture"
PHONE_WIDTH = 390


def drawing_of(digit: int):
    return next(strokes for label, strokes in make_drawings(seed=0) if label == digit)


def draw_and_read(page, strokes, cdp=None, timeout: float = FIRST_READING_TIMEOUT) -> str:
    """Draw the strokes (mouse, or a finger through `cdp`), then wait for the reading; the Prediction.

    The home page shows no "What the model sees" image to watch for: wait for the script to be
    idle after each stroke, then for the Prediction metric.
    """
    box = canvas_box(page)
    for stroke in strokes:
        if cdp is None:
            mouse_stroke(page, box, stroke)
        else:
            touch_stroke(cdp, box, stroke)
        page.wait_for_timeout(150)  # the canvas sends the stroke; its rerun starts
        wait_for_idle(page, timeout, quiet=0.3)
    value = wait_until(page, lambda: metric_value(page, "Prediction"), timeout, "the Prediction metric")
    wait_for_idle(page, timeout)
    return metric_value(page, "Prediction") or value


def wait_for_pictures(page) -> None:
    """Wait until the cards show their pictures (the page polls for them every 2 s)."""
    wait_until(page, lambda: page.get_by_text(PLACEHOLDER).count() == 0, PICTURES_TIMEOUT, "the cards' pictures")
    wait_for_idle(page)
    for card in ("card_train", "card_evaluate", "card_draw"):
        images = page.locator(f".st-key-{card} [data-testid='stImage'] img")
        assert images.count() >= 1, f"{card} shows no picture"
        wait_until(page, lambda images=images: images.first.evaluate("img => img.complete && img.naturalWidth > 0"),
                   30, f"{card}'s picture to load")


def page_scroll_width(page) -> int:
    """The widest scrolling box of the page (document and Streamlit's own scrolling containers)."""
    return page.evaluate("""() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,
        ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
            .map(el => el.scrollWidth))""")


def test_a_first_visitor_draws_on_the_home_page_of_a_fresh_server(page, fresh_app_url):
    # A server just started: the page is drawn at once, before TensorFlow is loaded.
    start = time.monotonic()
    open_page(page, fresh_app_url, "Draw a digit in the black box")
    drawn = time.monotonic() - start
    assert "Digit Lab" in page.locator("h1").first.inner_text()
    main_links = link_labels(page.locator('[data-testid="stMain"] [data-testid="stPageLink-NavLink"]'))
    lessons = "New here? Follow a lesson: it shows you what to try, step by step"
    assert main_links == [lessons, "More on the Draw page", "Learn"] + PAGES + ["My digits"]
    assert link_labels(sidebar_links(page)) == ["Home", "Learn"] + PAGES + ["My digits"]
    assert page.get_by_text("You have not trained a model yet").count() == 1
    assert drawn < 60, f"the home page took {drawn:.0f} s to be drawn"

    predicted = draw_and_read(page, drawing_of(3))
    assert predicted == "3", f"drew a 3, the home page read {predicted}"
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 1  # the probabilities
    wait_for_pictures(page)
    assert_no_exception(page)
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # let the canvas toolbar fade out
    save_screenshot(page, "home")


def test_the_home_page_on_a_phone_reads_a_finger_drawn_digit_and_fits_the_screen(phone_page, app_url):
    page = phone_page
    open_page(page, app_url, "Draw a digit in the black box")
    box = canvas_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    cdp = page.context.new_cdp_session(page)
    predicted = draw_and_read(page, drawing_of(7), cdp=cdp)
    assert predicted == "7", f"drew a 7 with a finger, the home page read {predicted}"
    wait_for_pictures(page)
    for card in page.locator("[class*='st-key-card_']").all():
        card_box = card.bounding_box()
        assert card_box and card_box["x"] >= 0 and card_box["x"] + card_box["width"] <= PHONE_WIDTH
    width = page_scroll_width(page)
    assert width <= PHONE_WIDTH, f"the home page scrolls sideways on a phone: {width} px wide"
    save_screenshot(page, "home_phone")
