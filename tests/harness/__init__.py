"""The shared test harness: what tests and benchmarks both use, each written once.

- `browser`: Playwright helpers for driving Digit Lab in Chromium (waits, reading, drawing); its pure
  parts (selectors, the idle rule, stroke geometry) also serve `browser_async`.
- `browser_async`: the same waits for Playwright's async API (bench.classroom's thirty visitors).
- `server`: start and stop the app's Streamlit server, find Chromium, `free_port`.
- `drawings`: synthetic canvas strokes of every digit, and their rendering as the canvas would.
- `hostile_models`: model files that attack the loader (for the vetting tests and bench.abuse).
- `runs`: train a spec the app's way and the exported script's way (export tests, bench.code_export).
- `specs`: the tiny TrainSpec the training tests share.
- `polling`: `poll_until` (every poll has a deadline) and `wait_for_job`.
- `postgres`: a throwaway PostgreSQL server, and its pytest fixtures.

Nothing here is collected as a test (no `test_` modules); bench/ may import only this package of tests/.
"""
