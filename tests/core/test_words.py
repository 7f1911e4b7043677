"""core.words: every entry reads as plain words first, and a missing metric is named."""

import pytest

from core.words import GLOSSARY, METRIC_WORDS, metric_words


def test_each_metric_has_a_label_with_its_technical_name_and_a_help():
    for name, words in METRIC_WORDS.items():
        assert words.label.endswith(")") and "(" in words.label, name
        assert words.help.endswith("."), name


def test_each_metric_term_is_in_the_glossary_or_names_a_metric():
    missing = {w.term for w in METRIC_WORDS.values()} - set(GLOSSARY) - {"precision", "recall", "F1 score"}
    assert not missing


def test_an_unknown_metric_names_itself():
    with pytest.raises(KeyError, match="top_5"):
        metric_words("top_5")
    assert metric_words("val_accuracy").term == "validation"
