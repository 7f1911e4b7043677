"""core/export/card.py: the model card states the data, the recipe, the test figures and the limits."""

from core.analysis.evaluation import compute_class_metrics, most_confused_pairs
from core.export.card import card_for_run, data_sizes, measure_run, recipe_in_words
from core.model.spec import NetworkSpec, TrainSpec


def test_card_of_a_trained_run_has_its_figures(digits_run):
    result = measure_run(digits_run)
    sizes = data_sizes(digits_run.spec)
    card = card_for_run(digits_run, result, sizes)
    assert card.startswith(f"# Model card: {digits_run.name}")
    assert f"Training images: {sizes['train']:,}" in card and f"test images: {sizes['test']:,}" in card
    assert f"Test accuracy: **{result.accuracy:.2%}**" in card
    figures = compute_class_metrics(result.cm)
    assert f"| 7 | {figures['precision'][7]:.1%} | {figures['recall'][7]:.1%} |" in card
    for truth, predicted, count in most_confused_pairs(result.cm, 3):
        assert f"- {truth} read as {predicted}: {count:,} times" in card
    assert "## Limits" in card and "not a product" in card
    assert f"in {digits_run.seconds:.1f} seconds" in card


def test_recipe_in_words_names_the_network_and_optimizer():
    spec = TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(32, 64), hidden_layers=(),
                                                          dropout=0.5), optimizer="sgd", learning_rate=0.1,
                     momentum=0.9, patience=3)
    words = recipe_in_words(spec)
    assert "2 convolution blocks (32, 64 filters of 3x3" in words and "dropout 0.5" in words
    assert "SGD (learning rate 0.1, momentum 0.9)" in words and "after 3 epochs without gain" in words


def test_card_of_an_uploaded_model_says_its_recipe_is_unknown(digits_run):
    import dataclasses

    run = dataclasses.replace(digits_run, spec=None, source="uploaded", history={}, seconds=0.0)
    card = card_for_run(run, None)
    assert "recipe is not known" in card and "Not measured" in card
