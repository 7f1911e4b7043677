"""Browser tests (Playwright + Chromium). A package, so its conftest is `e2e.conftest`, not a
second top-level `conftest` module shadowing tests/conftest.py (other tests import from it)."""
