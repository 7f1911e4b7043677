"""The Train page's three modes in a real browser, each opened by its link (`?mode=`), with its own controls.

Also takes the README's pictures of the modes (train_mode_*.png); a comparison of the kinds of network is
opened by the lessons' link (`mode=compare&vary=kind&values=dense,cnn`).
"""

from __future__ import annotations

import pytest

from core.words import words_for
from tests.harness.browser import assert_no_exception, open_page, save_screenshot, wait_for_idle

pytestmark = pytest.mark.e2e  # a real browser against a real server

MODES = [  # (link, the picture, the button only this mode has, buttons it must not show)
    ("mode=train", "train_mode_train", "start_training", ("start_sweep",)),
    ("mode=compare&vary=kind&values=dense,cnn", "train_mode_compare", "start_sweep", ("start_training",)),
    ("mode=fine_tune", "train_mode_fine_tune", "fine_tune", ("start_training", "start_sweep")),
]


@pytest.mark.parametrize("link, picture, own, others", MODES)
def test_each_mode_opens_by_its_link_with_only_its_own_controls(page, app_url, link, picture, own, others):
    open_page(page, f"{app_url}/train?{link}", words_for(own).label, timeout=180)
    wait_for_idle(page)
    assert_no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    assert main.get_by_role("button", name=words_for(own).label).count() == 1
    for other in others:
        assert main.get_by_role("button", name=words_for(other).label).count() == 0, other
    if "vary=kind" in link:
        assert main.get_by_text("Small CNN (convolutions)").count() >= 1  # the values, filled in by the link
    save_screenshot(page, picture, full_page=False)
