"""The app with the keyboard alone (issue 26): no mouse event, only Tab, Shift+Tab, Enter, Space, arrows and typing.

A Digits network set up and trained from Home, then a confusion cell opened on Evaluate; Learn's Start.
What has the focus is read from the page (document.activeElement), which is not an input event.
"""

from __future__ import annotations

import re

import pytest

from core.words import EVALUATE_WORDS, SETTING_WORDS
from tests.harness.browser import (
    CURRENT_MODEL,
    open_page,
    progress,
    save_screenshot,
    selectbox_value,
    short,
    wait_for_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e  # a real browser against a real server

TRAIN_EPOCHS = 15
MAX_TABS = 250  # more focusable elements than any page has: a missing element fails, it does not loop

FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const label = e.id ? document.querySelector(`label[for="${CSS.escape(e.id)}"]`) : null;
    const keys = [];  // the st-key-* classes of the element and every container around it
    for (let n = e; n; n = n.parentElement) keys.push(...[...n.classList].filter(c => c.startsWith("st-key-")));
    return {
        tag: e.tagName.toLowerCase(),
        role: e.getAttribute("role") || "",
        name: (e.getAttribute("aria-label") || (label && label.innerText) || e.innerText || "").trim(),
        key: keys.join(" "),
        sidebar: !!e.closest('[data-testid="stSidebar"]'),
    };
}"""


def focused(page) -> dict | None:
    """What has the keyboard focus: tag, role, name, the st-key classes around it, whether in the sidebar."""
    return page.evaluate(FOCUSED)


def tab_to(page, wanted, what: str, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab when `backwards`) until `wanted(focused(page))`; fails after MAX_TABS presses."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        now = focused(page)
        if now and wanted(now):
            return now
        seen.append(now and now["name"][:40])
    pytest.fail(f"{what} never got the focus with {key}; focus went through {seen[:60]}")


def says(found: dict, text: str) -> bool:
    """Whether a line of the focused element's name starts with `text` (a link's first line is its icon's name)."""
    return any(line.strip().startswith(text) for line in found["name"].splitlines())


def named(text: str, tag: str | None = None):
    """A `wanted` for tab_to: the focused element's name says `text` (and its tag is `tag`)."""
    return lambda f: says(f, text) and (tag is None or f["tag"] == tag)


def choose_by_keyboard(page, label: str, option: str) -> None:
    """Focus the select box `label`, type the option's start and Enter; the box then shows `option`."""
    tab_to(page, named(label, "input"), f"the select box {label!r}")
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    wait_for_idle(page)
    wait_until(page, lambda: (selectbox_value(page, label) or "").startswith(option), 30, f"{label} = {option}")


def test_a_digits_network_set_up_trained_and_a_confusion_cell_opened_by_keyboard(page, app_url):
    open_page(page, app_url, "Digit Lab", timeout=180)
    # Home -> Train by its link in the page (Enter follows a link).
    tab_to(page, lambda f: f["tag"] == "a" and not f["sidebar"] and says(f, "Train"), "the Train link")
    page.keyboard.press("Enter")
    wait_until(page, lambda: page.get_by_role("button", name="Start training").count(), 120, "Train's form")
    wait_for_idle(page)

    # Set up: the Digits set, chosen by typing; the epochs typed into their number box.
    choose_by_keyboard(page, SETTING_WORDS["dataset"].label, "Digits")
    tab_to(page, named(SETTING_WORDS["epochs"].label, "input"), "the epochs box")
    page.keyboard.press("Control+A")
    page.keyboard.type(str(TRAIN_EPOCHS))
    page.keyboard.press("Enter")
    wait_for_idle(page)
    epochs = page.get_by_role("spinbutton", name=SETTING_WORDS["epochs"].label)
    assert epochs.input_value() == str(TRAIN_EPOCHS)

    # Start by Space on the focused button; the bar moves.
    tab_to(page, named("Start training", "button"), "Start training")
    page.keyboard.press("Space")
    wait_until(page, lambda: (p := progress(page)) and p[1] == TRAIN_EPOCHS and p, 90, "the training's progress")
    wait_until(page, lambda: short(selectbox_value(page, CURRENT_MODEL)) == "Run 1", 240,
               lambda: f"Run 1 finished (the bar says {progress(page)})", interval=0.5)
    wait_for_idle(page)

    # Evaluate by the sidebar's navigation: Shift+Tab goes back up to it.
    tab_to(page, lambda f: f["tag"] == "a" and f["sidebar"] and says(f, "Evaluate"),
           "the sidebar's Evaluate link", backwards=True)
    page.keyboard.press("Enter")
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    wait_for_idle(page)

    # A mix-up's button opens its cell (Enter), then another cell by the truth's select box (typing).
    pair = tab_to(page, lambda f: f["tag"] == "button" and "st-key-pair_" in f["key"], "a mix-up's button")
    truth, predicted = map(int, re.search(r"st-key-pair_(\d+)_(\d+)", pair["key"]).groups())
    page.keyboard.press("Enter")
    wait_for_idle(page)
    title = f"Truth {truth}, predicted {predicted} —"
    wait_until(page, lambda: page.get_by_text(title).count(), 30, f"the gallery {title!r}")

    truth_label, pred_label = EVALUATE_WORDS["truth"].label, EVALUATE_WORDS["predicted"].label
    other = (truth + 1) % 10
    choose_by_keyboard(page, truth_label, str(other))
    wait_until(page, lambda: selectbox_value(page, truth_label) == str(other), 30, f"the truth {other}")
    assert selectbox_value(page, pred_label) == str(predicted)
    title = f"Truth {other}, predicted {predicted} —"
    wait_until(page, lambda: page.get_by_text(title).count(), 30, f"the gallery {title!r}")
    save_screenshot(page, "keyboard_confusion_cell", full_page=False)


def test_learn_starts_a_lesson_by_keyboard(page, app_url):
    open_page(page, f"{app_url}/learn", timeout=180)
    page.locator(".st-key-lesson_1").wait_for()
    tab_to(page, lambda f: f["tag"] == "button" and "st-key-lesson_1 " in f["key"] + " " and says(f, "Start"),
           "lesson 1's Start")
    page.keyboard.press("Enter")
    page.locator(".st-key-lesson_panel").wait_for(timeout=60_000)
    wait_for_idle(page)
    # The panel's own buttons are reached by keyboard too.
    tab_to(page, lambda f: f["tag"] == "button" and "st-key-lesson_leave" in f["key"], "Leave the lesson")
