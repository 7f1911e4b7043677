"""The browser tests' waits (tests/harness/browser.py) end at once when the page shows an error box.

A server whose DIGITLAB_DATA_DIR names a missing folder: Evaluate says so in an st.error and
never shows a test accuracy. Waiting for one must fail with that error's text, not after its
deadline with "timed out".
"""

from __future__ import annotations

import pytest

from tests.harness.browser import APP, AppError, open_page, wait_for_idle, wait_until
from tests.harness.server import start_server

pytestmark = pytest.mark.e2e  # a real browser against a real server

DEADLINE = 120.0  # what the waits below would take without the error check


@pytest.fixture(scope="module")
def broken_data_url(browser_available, tmp_path_factory):
    """A server of its own whose MNIST cannot be read (DIGITLAB_DATA_DIR: a folder that does not exist)."""
    missing = tmp_path_factory.mktemp("data") / "missing"
    server = start_server(extra_env={"DIGITLAB_DATA_DIR": str(missing)})
    try:
        yield server.url
    finally:
        server.stop()


def test_a_wait_fails_at_once_with_the_error_the_page_shows(page, broken_data_url):
    page.goto(f"{broken_data_url}/evaluate")
    page.locator(APP).wait_for()
    with pytest.raises(AppError, match="shows an error instead of the test accuracy") as error:
        wait_until(page, lambda: page.get_by_text("Test accuracy").count(), DEADLINE, "the test accuracy")
    assert "not a folder" in str(error.value) and "timed out" not in str(error.value)


def test_open_page_and_wait_for_idle_fail_at_once_too(page, broken_data_url):
    with pytest.raises(AppError, match="not a folder"):
        open_page(page, f"{broken_data_url}/evaluate", "Test accuracy", timeout=DEADLINE)
    with pytest.raises(AppError, match="not a folder"):
        wait_for_idle(page, timeout=DEADLINE)


def test_an_expected_error_can_be_waited_for(page, broken_data_url):
    # What was awaited comes first, even beside an error box; errors_ok lets a wait see errors pass.
    open_page(page, f"{broken_data_url}/evaluate", "not a folder", timeout=DEADLINE, errors_ok=True)
    assert wait_until(page, lambda: page.get_by_text("not a folder").count(), DEADLINE, "the error")
