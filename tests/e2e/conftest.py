"""Browser tests: one Streamlit server and one headless Chromium for the session, a fresh page per test.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; when it is missing we try
`apt-get install chromium` (root only) and otherwise skip with the reason. Never `playwright install`.
"""

from __future__ import annotations

import pytest

from tests.harness.browser import save_screenshot
from tests.harness.server import browser_problem, launch_browser, start_server

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip every browser test, with the reason, when Chromium or Playwright is unusable."""
    problem = browser_problem(try_install=True)
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="session")
def playwright_instance(browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = launch_browser(playwright_instance)
    yield browser
    browser.close()


def _serve():
    server = start_server()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_url(browser_available):
    """Base URL of `streamlit run app.py` on a free port, stopped (with its children) at the end."""
    yield from _serve()


@pytest.fixture
def fresh_app_url(browser_available):
    """A server of its own that no browser has visited yet (for first-visit behaviour)."""
    yield from _serve()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so a page fixture can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _page(browser, request, options: dict):
    context = browser.new_context(**options)
    context.set_default_timeout(60_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        try:  # what the page looked like when the test failed
            save_screenshot(page, f"FAILED-{request.node.name}")
        except Exception:  # noqa: BLE001 -- a broken page must not hide the real failure
            pass
    context.close()


@pytest.fixture
def page(browser, request):
    """A page in a new browser context (a new Streamlit session), 1400x1000."""
    yield from _page(browser, request, DESKTOP)


@pytest.fixture
def phone_page(browser, request):
    """A phone-sized touch page (390x844, mobile, touch), in a new browser context."""
    yield from _page(browser, request, PHONE)
