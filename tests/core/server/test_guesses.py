"""Tests for core.server.guesses: wrong class codes per tab and per address, per minute; new classes per hour."""

from core.i18n import translate
from core.server import guesses
from core.server.new_labs import NewLabCounter


def test_a_tab_is_refused_after_its_wrong_guesses_and_again_a_minute_later(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_CODE_GUESSES_PER_MINUTE", "3")
    counter = NewLabCounter(window=guesses.GUESS_WINDOW_SECONDS)
    for second in range(3):
        assert guesses.guessing_refusal("tab", None, counter, now=100.0 + second) is None
        guesses.count_wrong_guess("tab", None, counter, now=100.0 + second)
    assert guesses.guessing_refusal("tab", None, counter, now=103.0) == guesses.TOO_MANY_GUESSES
    assert guesses.guessing_refusal("other tab", None, counter, now=103.0) is None
    assert guesses.guessing_refusal("tab", None, counter, now=161.0) is None  # the first wrong one is a minute old


def test_an_address_is_bounded_across_its_tabs(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_CODE_GUESSES_PER_MINUTE_PER_ADDRESS", "4")
    counter = NewLabCounter(window=guesses.GUESS_WINDOW_SECONDS)
    for tab in range(4):  # four tabs, one wrong code each: each tab is far under its own bound
        guesses.count_wrong_guess(f"tab {tab}", "10.0.0.1", counter, now=10.0)
    assert guesses.guessing_refusal("a fifth tab", "10.0.0.1", counter, now=11.0) == guesses.TOO_MANY_GUESSES
    assert guesses.guessing_refusal("a fifth tab", "10.0.0.2", counter, now=11.0) is None
    assert guesses.guessing_refusal("a fifth tab", None, counter, now=11.0) is None  # no address known


def test_new_classes_per_tab_and_hour(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_NEW_CLASSES_PER_HOUR", "2")
    counter = NewLabCounter(window=guesses.NEW_CLASS_WINDOW_SECONDS)
    assert guesses.claim_new_class("tab", counter, now=0.0) is None
    assert guesses.claim_new_class("tab", counter, now=1.0) is None
    assert guesses.claim_new_class("tab", counter, now=2.0) == guesses.TOO_MANY_CLASSES
    assert guesses.claim_new_class("tab", counter, now=3601.0) is None


def test_refusals_translate_in_spanish_and_german():
    assert translate("es", guesses.TOO_MANY_GUESSES).startswith("Demasiados códigos o enlaces incorrectos")
    assert translate("de", guesses.TOO_MANY_CLASSES).startswith("Dieser Browser-Tab hat schon so viele Klassen")
    assert "DIGITLAB_" in translate("de", guesses.TOO_MANY_CLASSES)
