"""Languages in a real browser: a link's ?lang= sets the pages' words, the sidebar's picker changes them, and
every link keeps the language (as it keeps the lab). Takes the README's pictures of a page in each language."""

from __future__ import annotations

import pytest

from tests.harness.browser import nav_link, open_listbox, open_page, save_screenshot, wait_until

pytestmark = pytest.mark.e2e


def test_a_link_in_spanish_then_the_picker_in_german_and_every_link_keeps_it(page, app_url):
    open_page(page, f"{app_url}/train?lang=es", "Entrenar una red")
    assert page.get_by_role("button", name="Empezar a entrenar").count() == 1
    save_screenshot(page, "train_es", full_page=False)

    nav_link(page, "Evaluar").click()  # the navigation keeps the language
    wait_until(page, lambda: "lang=es" in page.url and page.get_by_text("Matriz de confusión").count() > 0, 120,
               "Evaluate in Spanish")

    open_listbox(page, "Idioma").filter(has_text="Deutsch").first.click()  # the picker: the page and address follow
    wait_until(page, lambda: page.get_by_text("Verwechslungsmatrix (Konfusionsmatrix)").count() > 0, 120,
               "Evaluate in German")
    wait_until(page, lambda: "lang=de" in page.url, 30, "the address saying lang=de")
    assert page.get_by_text("richtig gelesen").count() >= 1  # "9.933 richtig gelesen": German words and numbers
    save_screenshot(page, "evaluate_de", full_page=False)

    nav_link(page, "Zeichnen").click()
    wait_until(page, lambda: "/draw" in page.url and "lang=de" in page.url, 120, "Draw keeping lang=de")


def test_a_browser_that_asks_for_spanish_gets_spanish_and_english_stays_the_default(browser, app_url):
    # French is not one of the app's languages: English, the default.
    for locale, title in (("es-ES", "Lección 1 · Tu primera red"), ("fr-FR", "Lesson 1 · Your first network")):
        context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
        try:
            open_page(context.new_page(), f"{app_url}/learn", title)
        finally:
            context.close()
