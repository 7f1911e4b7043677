""""Why this answer" and "Inside the network" in a real browser: draw a digit, read why, look inside.

Screenshots: artifacts/screenshots/draw_explained.png, draw_explained_phone.png, evaluate_inside.png,
evaluate_why.png.
"""

from __future__ import annotations

import pytest

from tests.harness.browser import (
    choose_option,
    draw_digit,
    open_page,
    save_screenshot,
    selectbox_value,
    wait_for_idle,
    wait_until,
)
from tests.harness.drawings import make_drawings

pytestmark = pytest.mark.e2e  # a real browser against a real server

MAP_SIDE = 168 + 2  # px: ui.explanations.MAP_SIZE, in a 1 px frame
TIMEOUT = 60.0


def drawing_of(digit: int, variant: int = 0):
    return [strokes for label, strokes in make_drawings(seed=0) if label == digit][variant]


def why_map(page, title: str):
    """The st.image captioned `title` ("Why 3?")."""
    return page.locator('[data-testid="stImage"]').filter(has_text=title)


def explanation(page) -> tuple[str, str] | None:
    """(caption of the Draw page's map, the sentence under it), or None while there is none."""
    box = page.locator(".st-key-draw_why")
    if not box.count() or not box.locator("img").count():
        return None
    caption = box.locator('[data-testid="stImageCaption"]').last.inner_text().strip()  # the map's
    sentence = box.locator('[data-testid="stMarkdownContainer"]').last.inner_text().strip()
    return caption, sentence


def image_size(page, title: str) -> tuple[int, int, int]:
    """(natural width, natural height, shown width in CSS px) of the map captioned `title`."""
    return tuple(why_map(page, title).first.locator("img").first.evaluate(
        "img => [img.naturalWidth, img.naturalHeight, Math.round(img.getBoundingClientRect().width)]"))


def test_draw_explains_the_reading_and_opens_inside_the_network(page, app_url):
    open_page(page, f"{app_url}/draw?keep=me", "Draw a digit in the black box")
    assert draw_digit(page, drawing_of(3)) == "3"
    caption, sentence = wait_until(page, lambda: explanation(page), TIMEOUT, "the explanation of the drawing")
    assert caption == "Why 3?"
    assert "3" in sentence and "counted" in sentence and sentence.endswith(".")
    assert page.get_by_text("pushed towards the class").count() == 1  # the legend
    assert image_size(page, "Why 3?") == (MAP_SIDE, MAP_SIDE, MAP_SIDE)  # one image pixel per screen pixel
    assert selectbox_value(page, "Class to explain") == "The prediction"
    page.mouse.move(0, 0)
    page.wait_for_timeout(400)  # let the canvas toolbar fade out
    save_screenshot(page, "draw_explained")

    choose_option(page, "Class to explain", "7")
    wait_until(page, lambda: (explanation(page) or ("",))[0] == "Why not 7?", TIMEOUT, "the map of class 7")
    assert "7" in explanation(page)[1]
    wait_for_idle(page)

    page.get_by_role("button", name="See inside the network").click()
    wait_until(page, lambda: "/evaluate" in page.url, TIMEOUT, "the Evaluate page")
    assert "keep=me" in page.url  # query parameters (a lab's key among them) travel along
    page.get_by_text("What each convolution block makes of one image").wait_for(timeout=TIMEOUT * 1000)
    wait_for_idle(page)
    selected = page.get_by_role("tab", selected=True).inner_text().strip()
    assert selected == "Inside the network"
    assert page.get_by_role("radio", name="Your drawing").is_checked()
    assert page.get_by_text("The first layer's 32 filters").count() == 1
    assert page.get_by_text("The drawing on the Draw page.").count() == 1
    panel = page.get_by_role("tabpanel").filter(has_text="What each convolution block")
    assert panel.locator('[data-testid="stImage"]').count() == 4  # filters, the drawing, two blocks
    panel.get_by_text("The first layer's 32 filters").scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    save_screenshot(page, "evaluate_inside")

    # Look closer at a mistake: why the prediction, and why not the truth.
    page.get_by_role("tab", name="All mistakes").click()
    wait_for_idle(page)
    panel = page.get_by_role("tabpanel").filter(has_text="Misclassified, most confident first")
    why_not = panel.locator('[data-testid="stImage"]').filter(has_text="Why not ")
    why_not.first.wait_for(timeout=TIMEOUT * 1000)
    assert panel.locator('[data-testid="stImage"]').filter(has_text="Why ").count() == 2
    why_not.first.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    save_screenshot(page, "evaluate_why")


def test_the_explanation_fits_a_phone(phone_page, app_url):
    page = phone_page
    open_page(page, f"{app_url}/draw", "Draw a digit in the black box")
    cdp = page.context.new_cdp_session(page)
    predicted = draw_digit(page, drawing_of(7), cdp=cdp)
    caption, sentence = wait_until(page, lambda: explanation(page), TIMEOUT, "the explanation of the drawing")
    assert caption == f"Why {predicted}?"
    box = why_map(page, caption).first.locator("img").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    save_screenshot(page, "draw_explained_phone")
