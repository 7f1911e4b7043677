"""core.words: every entry reads as plain words first, and a missing metric is named."""

import pytest

from core.i18n import translate
from core.words import GLOSSARY, METRIC_WORDS, WORDS, metric_words, words_for


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


# Words that read the same in Spanish or German ("CNN", "Dropout"): their translation may equal the English.
SAME_IN = {"es": {"CNN", "softmax", "dropout", "{field}: {problem}"}, "de": {"CNN", "Pullover"}}


@pytest.mark.parametrize("language", ["es", "de"])
def test_every_label_help_and_glossary_entry_is_translated(language):
    texts = [t for w in WORDS.values() for t in (w.label, w.help)] + [t for kv in GLOSSARY.items() for t in kv]
    left = [t for t in texts if translate(language, t) == t and t not in SAME_IN[language]]
    assert not left, left[:5]


def test_a_label_keeps_its_technical_name_in_brackets_in_each_language():
    assert translate("es", words_for("epochs").label) == "Pasadas por los datos (épocas)"
    assert translate("de", words_for("epochs").label) == "Durchgänge durch die Daten (Epochen)"
    assert translate("de", words_for("page").label).format(pages=3) == "Seite (von 3)"
