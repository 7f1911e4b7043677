"""Coming back in a real browser: after a training, tick "Remember my lab on this computer"; the app's bare
address in the same browser then offers "Continue your lab", and a fresh browser does not. Also the
end of the training in words, and Evaluate's top. Screenshots: train_done_words, evaluate_top."""

from __future__ import annotations

import pytest

from core.words import RESULTS_WORDS
from tests.harness.browser import assert_no_exception, open_page, save_screenshot, wait_for_idle, wait_until

pytestmark = pytest.mark.e2e

CONTINUE = RESULTS_WORDS["continue_lab"].label
REMEMBER = RESULTS_WORDS["remember_lab"].label
COOKIE = "digitlab_lab"
DESKTOP = {"viewport": {"width": 1400, "height": 1000}}


def test_remember_my_lab_offers_continue_in_the_same_browser_only(browser, app_url):
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        open_page(page, f"{app_url}/train", "Start training")
        page.get_by_role("button", name="Start training").click()
        sentence = page.get_by_text("Your network reads").first  # also under the runs, as the current model's
        sentence.wait_for(timeout=240_000)
        wait_for_idle(page)
        sentence.scroll_into_view_if_needed()
        save_screenshot(page, "train_done_words", full_page=False)
        assert page.get_by_role("button", name=RESULTS_WORDS["see_mistakes"].label).count() == 1
        lab = page.url.split("lab=")[1].split("&")[0]

        # The lab's link is on top of the page, with the box off by default; ticking it keeps the key.
        assert page.get_by_text(f"?lab={lab}").count() >= 1
        box = page.get_by_role("checkbox", name=REMEMBER)
        assert not box.is_checked()
        page.get_by_text(REMEMBER, exact=True).click()
        wait_until(page, lambda: any(c["name"] == COOKIE and c["value"] == lab for c in context.cookies()), 30,
                   "the remembered lab's cookie")

        # The bare address, same browser: offered, never opened by itself.
        open_page(page, f"{app_url}/", CONTINUE)
        assert "lab=" not in page.url
        page.get_by_role("button", name=CONTINUE).click()
        wait_until(page, lambda: f"lab={lab}" in page.url, 30, "the remembered lab opened")
        page.get_by_text("Continue where you left off").wait_for()
        assert_no_exception(page)

        # A fresh browser is offered nothing.
        other = browser.new_context(**DESKTOP)
        try:
            fresh = other.new_page()
            open_page(fresh, f"{app_url}/", "Draw a digit")
            wait_for_idle(fresh)
            assert fresh.get_by_role("button", name=CONTINUE).count() == 0
        finally:
            other.close()

        # Turning it off forgets it: the bare address offers nothing any more.
        open_page(page, f"{app_url}/train?lab={lab}", REMEMBER)
        assert page.get_by_role("checkbox", name=REMEMBER).is_checked()
        page.get_by_text(REMEMBER, exact=True).click()
        wait_until(page, lambda: not any(c["name"] == COOKIE for c in context.cookies()), 30, "the cookie gone")
        open_page(page, f"{app_url}/", "Draw a digit")
        wait_for_idle(page)
        assert page.get_by_role("button", name=CONTINUE).count() == 0

        # Evaluate's top: the metrics in words and the biggest mix-ups.
        open_page(page, f"{app_url}/evaluate?lab={lab}", "It mixes up")
        wait_for_idle(page)
        save_screenshot(page, "evaluate_top", full_page=False)
        assert_no_exception(page)
    finally:
        context.close()
