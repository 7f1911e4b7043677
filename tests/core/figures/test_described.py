"""core.figures.described: each figure's sentence names its real numbers, and its table holds them."""

import numpy as np
import pytest

from core.figures.curves import plot_learning_curve, plot_run_comparison
from core.figures.described import (
    describe_class_metrics,
    describe_confusion,
    describe_confusion_over_epochs,
    describe_counts,
    describe_curve,
    describe_histogram,
    describe_probabilities,
    describe_runs,
    figure_table,
    most_confused,
)
from core.figures.probabilities import plot_probabilities
from core.i18n import translate
from tests.harness.translations import english_left

NAMES = [str(d) for d in range(3)]


def test_a_curve_says_where_validation_started_and_ended():
    d = describe_curve({"accuracy": [0.5, 0.8, 0.9], "val_accuracy": [0.62, 0.9, 0.96]}, "accuracy")
    assert d.sentence.startswith("Validation accuracy rose from 62.0% to 96.0%")
    assert "Training accuracy rose from 50.0% to 90.0% over 3 epochs." in d.sentence
    assert d.rows[2] == {"epoch": 3, "accuracy": 0.9, "val_accuracy": 0.96}


def test_a_falling_loss_is_a_plain_number_and_an_empty_history_says_so():
    assert "Validation loss fell from 1.235 to 0.3 over" in describe_curve({"val_loss": [1.2346, 0.3]}, "loss").sentence
    assert describe_curve({}, "loss").sentence == "No loss measured yet."


def test_runs_are_ranked_best_first_and_apart_to_a_tenth_of_a_point():
    d = describe_runs({"Run 1": 0.970, "Run 2": 0.986, "<b>x</b>": 0.5}, "val_accuracy")
    assert d.sentence == "Of 3 runs, Run 2 ended best at 98.6% and <b>x</b> lowest at 50.0%."
    assert [r["run"] for r in d.rows] == ["Run 2", "Run 1", "<b>x</b>"]
    assert describe_runs({"a": 0.2, "b": 0.1}, "val_loss").rows[0]["run"] == "b"  # lower loss is better


def test_the_confusion_sentence_counts_right_and_names_the_biggest_mistakes():
    cm = np.array([[50, 0, 3], [1, 40, 0], [7, 0, 30]])
    d = describe_confusion(cm, NAMES)
    assert d.sentence.startswith("Of 131 test images, 120 (91.6%) were read right.")
    assert "2 read as 0 (7 times), 0 read as 2 (3 times), 1 read as 0 (once)" in d.sentence
    assert d.rows[2] == {"truth": "2", "read as 0": 7, "read as 1": 0, "read as 2": 30}
    assert most_confused(np.eye(3, dtype=int)) == []


def test_the_matrix_over_epochs_says_how_the_share_read_right_changed():
    cms = np.array([[[5, 5], [5, 5]], [[9, 1], [0, 10]]])
    d = describe_confusion_over_epochs(cms, ["0", "1"])
    assert d.sentence == ("Over 2 epochs, the validation images read right went from 50.0% to 95.0%. "
                          "After the last epoch the most common mistake is 0 read as 1 (1).")


def test_probabilities_name_the_answer_and_the_runner_up():
    d = describe_probabilities(np.array([0.1, 0.05, 0.85]), NAMES)
    assert d.sentence == "Read as 2 with 85.0% chance; next is 0 with 10.0%."


def test_class_metrics_counts_and_histogram():
    metrics = {"precision": np.array([0.9, 0.8, 0.7]), "recall": np.array([0.95, 0.5, 0.7]),
               "f1": np.array([0.9, 0.6, 0.7]), "support": np.array([10, 20, 30])}
    assert describe_class_metrics(metrics, NAMES).sentence.startswith("0 is found most often (95.0%")
    assert describe_counts([2, 0, 5], NAMES).sentence == "7 drawings in all, from 0 to 5 of each. None yet of 1."
    images = np.array([[0, 0, 0, 255]], dtype=np.uint8)
    d = describe_histogram(images, 255)
    assert d.sentence.startswith("75.0% of the pixels are nearly empty background and 25.0% are full ink")
    assert sum(r["pixels"] for r in d.rows) == 4


def test_figure_table_reads_the_points_of_any_figure():
    fig = plot_probabilities(np.array([0.1, 0.05, 0.85]), NAMES, highlight=2)
    assert {"x": "2", "y": 0.85} in [{k: r[k] for k in ("x", "y")} for r in figure_table(fig)]
    curves = plot_learning_curve([], [{"epoch": 1, "accuracy": 0.5, "val_accuracy": 0.6}], 10, "accuracy")
    assert [(r["series"], r["y"]) for r in figure_table(curves)] == [("training", 0.5), ("validation", 0.6)]


def test_a_sentence_translates_whole_with_its_numbers_written_the_languages_way():
    cm = np.array([[50, 0, 3], [1, 40, 0], [7, 0, 30]])
    sentence = describe_confusion(cm, NAMES).sentence
    assert translate("es", sentence) == (
        "De 131 imágenes de prueba, 120 (91,6\xa0%) se leyeron bien. Errores más frecuentes: 2 leído como 0 "
        "(7 veces), 0 leído como 2 (3 veces), 1 leído como 0 (una vez).")
    curve = describe_curve({"val_accuracy": [0.62, 0.96]}, "accuracy").sentence
    assert translate("de", curve) == "Die Validierungs-Genauigkeit stieg von 62,0\xa0% auf 96,0\xa0% in 2 Epochen."
    assert translate("en", curve) == curve == "Validation accuracy rose from 62.0% to 96.0% over 2 epochs."


def test_run_names_stay_as_typed_and_the_plural_noun_translates():
    d = describe_runs({"Run 1": 0.970, "Run 2": 0.986}, "val_accuracy")
    assert translate("de", d.sentence) == ("Von 2 Trainings endete Run 2 am besten mit 98,6\xa0% und Run 1 am "
                                           "niedrigsten mit 97,0\xa0%.")


@pytest.mark.parametrize("language", ["es", "de"])
def test_every_description_leaves_no_english_in_spanish_and_german(language):
    metrics = {"precision": np.array([0.9, 0.8, 0.7]), "recall": np.array([0.95, 0.5, 0.7]),
               "f1": np.array([0.9, 0.6, 0.7]), "support": np.array([10, 20, 30])}
    sentences = [
        describe_curve({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}, "loss").sentence,
        describe_curve({}, "accuracy").sentence,
        describe_runs({}, "val_accuracy").sentence,
        describe_confusion(np.zeros((3, 3), dtype=int), NAMES, "validation").sentence,
        describe_confusion_over_epochs(np.array([[[5, 5], [5, 5]], [[9, 1], [0, 10]]]), ["0", "1"]).sentence,
        describe_probabilities(np.array([0.1, 0.05, 0.85]), NAMES).sentence,
        describe_class_metrics(metrics, NAMES).sentence,
        describe_counts([2, 0, 5], NAMES).sentence,
        describe_histogram(np.array([[0, 0, 0, 255]], dtype=np.uint8), 255).sentence,
    ]
    shown = [translate(language, s) for s in sentences]
    assert english_left(shown, language, at_least=1) == []
    assert all(s != t for s, t in zip(sentences, shown))


def test_a_figures_titles_axes_and_legend_names_are_marked_for_translation():
    curves = plot_learning_curve([], [{"epoch": 1, "accuracy": 0.5, "val_accuracy": 0.6}], 10, "accuracy")
    assert translate("es", curves.layout.title.text) == "Aciertos (exactitud)"
    assert translate("de", curves.layout.xaxis.title.text) == "Epoche"
    assert [translate("es", t.name) for t in curves.data] == ["entrenamiento", "validación"]
    runs = plot_run_comparison({"<i>my run</i>": {"val_accuracy": [0.5, 0.6]}}, "accuracy")
    assert translate("de", runs.data[0].name) == "&lt;i&gt;my run&lt;/i&gt; (Validierung)"  # the name as typed
