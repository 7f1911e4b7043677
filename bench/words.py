"""How easy the app's words are to read: the Flesch reading ease (textstat) of every help text, recipe name and message.

Run from the repo root: python -m bench.words
Reads the help of every entry of core.words.WORDS, the glossary, the recipes' names, and the messages the
Train page shows for typical mistakes (core.model.spec's validation, a sweep's values). Prints the lowest
ten with their text; the last line is `words: N texts, median ease M, lowest L` (aim: median at least 60;
60-70 is plain English, what a 13- to 15-year-old reads easily).
"""

from __future__ import annotations

import statistics

import textstat

from core.model.settings import DEFAULT_VALUES
from core.model.spec import SpecError, problems_by_setting, spec_from_values
from core.training.sweeps import read_sweep_values, sweep_specs
from core.words import GLOSSARY, RECIPE_WORDS, WORDS

# Typical mistakes on the Train page: (changes to the form, the setting a sweep varies and its values or None).
MISTAKES: list[tuple[dict, tuple[str, str] | None]] = [
    ({"epochs": 100000}, None),
    ({"hidden": "0"}, None),
    ({"hidden": "64, many"}, None),
    ({"dropout": 1.5}, None),
    ({"dataset": "mnist", "hidden": "2048, 2048", "limit": 0, "epochs": 200}, None),
    ({"dataset": "mnist", "batch": 8, "epochs": 200, "limit": 0}, None),
    ({"kind": "cnn", "filters": "32, 64, 128"}, None),
    ({}, ("lr", "0.1")),
    ({}, ("lr", "0.1, fast")),
    ({}, ("optimizer", "adam, Adam")),
]


def mistake_messages() -> list[str]:
    """What the page says for each mistake (one message per field, as shown under it)."""
    messages = []
    for changes, sweep in MISTAKES:
        values = {**DEFAULT_VALUES, **changes}
        try:
            if sweep is None:
                spec_from_values(values)
            else:
                sweep_specs(values, sweep[0], read_sweep_values(*sweep)[0])
        except SpecError as error:
            messages += [f"{message}." for message in problems_by_setting(error).values()]
    return messages


def collect_texts() -> list[tuple[str, str]]:
    """(where, text) of every help text, glossary entry, recipe name and message."""
    texts = [(f"help of {key}", words.help) for key, words in WORDS.items() if words.help]
    texts += [(f"glossary {term}", text) for term, text in GLOSSARY.items()]
    texts += [(f"recipe {key}", words.label) for key, words in RECIPE_WORDS.items()]
    texts += [("message", message) for message in mistake_messages()]
    return texts


def use_offline_syllables() -> str:
    """textstat counts syllables with NLTK's CMU dictionary, downloaded on first use; offline, with pyphen alone.

    Returns which one counts them, for the output.
    """
    import nltk

    try:
        nltk.data.find("corpora/cmudict")
        return "CMU dictionary"
    except LookupError:
        from textstat.backend.counts import _count_syllables

        _count_syllables.get_cmudict = lambda lang: None  # type: ignore[assignment]  # no download: pyphen only
        return "pyphen (NLTK's CMU dictionary is not installed)"


def main() -> None:
    print(f"syllables counted by {use_offline_syllables()}")
    texts = collect_texts()
    scored = sorted((textstat.flesch_reading_ease(text), where, text) for where, text in texts)
    print("lowest ten (Flesch reading ease, higher is easier):")
    for ease, where, text in scored[:10]:
        print(f"  {ease:6.1f}  {where}: {text}")
    eases = [ease for ease, _, _ in scored]
    print(f"words: {len(eases)} texts, median ease {statistics.median(eases):.1f}, lowest {eases[0]:.1f}")


if __name__ == "__main__":
    main()
