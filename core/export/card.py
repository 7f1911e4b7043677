"""A model card for a run: Markdown that says what the model was trained on, how, how well, and its limits.

Downloaded as `.md` and put in the notebook's first cell. `measure_run` gives the test figures (the
Evaluate page's own computation); `card_for_run` writes the card from them, pure.
"""

from __future__ import annotations

from core.analysis.evaluation import (
    EvaluationResult,
    compute_class_metrics,
    most_confused_pairs,
    predict_probabilities,
    summarize_predictions,
)
from core.data.datasets import get_info, load_dataset, load_test_set, to_model_input
from core.model.optimizers import OPTIMIZERS, optimizer_name
from core.model.run import Run
from core.model.spec import TrainSpec, count_weights, describe_network

CONFUSIONS = 3  # the most frequent confusions the card names
LIMITS_TEXT = (
    "- It was trained on {kind}: centred, size-normalised, light on dark, one per image. Photos, drawings "
    "off-centre, letters or several digits at once are outside what it has seen; it still answers, and may "
    "be confidently wrong.\n"
    "- The test accuracy is measured on {test} images of the same collection; other people's handwriting, "
    "scanners or cameras will do worse.\n"
    "- It is a teaching model made in Digit Lab, not a product: do not use it to decide anything that matters "
    "(cheques, postcodes, grades).\n"
)


def measure_run(run: Run) -> EvaluationResult:
    """The run's model on its dataset's test set (N images): predictions, confusion matrix, accuracy."""
    info = get_info(run.dataset)
    x_test, y_test = load_test_set(run.dataset)
    return summarize_predictions(y_test, predict_probabilities(run.model, to_model_input(x_test, info)))


def data_sizes(spec: TrainSpec) -> dict[str, int]:
    """{'train', 'validation', 'test'} image counts of the run's split, as the app made it."""
    return load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed).sizes()


def recipe_in_words(spec: TrainSpec) -> str:
    """The training recipe in a few plain sentences."""
    net = spec.network
    info = OPTIMIZERS.get(spec.optimizer)
    extra = "".join(f", {name} {getattr(spec, name):g}" for name in (info.settings if info else ()))
    layers = (f"{len(net.conv_filters)} convolution blocks ({', '.join(map(str, net.conv_filters))} filters of "
              f"{net.kernel_size}x{net.kernel_size}, each followed by 2x2 max-pooling), then " if net.kind == "cnn"
              else "")
    hidden = (f"hidden dense layers of {', '.join(map(str, net.hidden_layers))} units ({net.activation})"
              if net.hidden_layers else "no hidden layer")
    regular = [f"dropout {net.dropout:g}"] * bool(net.dropout) + [f"L2 penalty {net.l2:g}"] * bool(net.l2)
    stopping = (f"early stopping on the validation loss after {spec.patience} epochs without gain (best weights "
                "kept)" if spec.patience else "no early stopping")
    return (f"A {describe_network(net)} network: {layers}{hidden}, then a softmax over the classes"
            f"{'; ' + ', '.join(regular) if regular else ''}. {count_weights(spec)[0]:,} parameters.\n"
            f"Trained with {optimizer_name(spec.optimizer)} (learning rate {spec.learning_rate:g}{extra}) on the "
            f"sparse categorical cross-entropy, batches of {spec.batch_size}, up to {spec.epochs} epochs, "
            f"{stopping}; random seed {spec.seed}.")


def class_table(result: EvaluationResult, class_names: tuple[str, ...]) -> str:
    """A Markdown table: per class, its precision, recall, F1 and number of test images."""
    figures = compute_class_metrics(result.cm)
    rows = ["| class | precision | recall | F1 | test images |", "|---|---:|---:|---:|---:|"]
    for c, name in enumerate(class_names):
        rows.append(f"| {name} | {figures['precision'][c]:.1%} | {figures['recall'][c]:.1%} | "
                    f"{figures['f1'][c]:.3f} | {int(figures['support'][c]):,} |")
    return "\n".join(rows)


def confusions_text(result: EvaluationResult, class_names: tuple[str, ...]) -> str:
    """'- a 4 read as 9: 12 times' for the most frequent confusions (or a line saying there were none)."""
    pairs = most_confused_pairs(result.cm, CONFUSIONS)
    if not pairs:
        return "- None: every test image was read right."
    return "\n".join(f"- {class_names[t]} read as {class_names[p]}: {n:,} times" for t, p, n in pairs)


def card_for_run(run: Run, result: EvaluationResult | None, sizes: dict[str, int] | None = None) -> str:
    """The Markdown model card of `run`; `result` from measure_run (None: not measured), `sizes` from data_sizes."""
    info = get_info(run.dataset)
    h, w = info.image_shape
    lines = [f"# Model card: {run.name}", "",
             f"Reads a {h}x{w} grayscale image (values scaled to 0..1) and gives a probability for each of its "
             f"{info.num_classes} classes: {', '.join(info.class_names)}. Made with Digit Lab "
             f"({'fine-tuned' if run.source == 'fine-tuned' else run.source}).", "", "## Data", "",
             info.description]
    if sizes:
        lines.append(f"Training images: {sizes['train']:,}; validation images (held out, seeded): "
                     f"{sizes['validation']:,}; test images: {sizes['test']:,}.")
    lines += ["", "## Recipe", ""]
    if run.spec is not None:
        lines.append(recipe_in_words(run.spec))
    else:
        lines.append("Not trained here (uploaded or the app's own model): its recipe is not known.")
    epochs = len(run.history.get("loss", []))
    if epochs or run.seconds:
        lines.append(f"It trained for {epochs} epochs in {run.seconds:.1f} seconds. {run.status}".rstrip())
    lines += ["", "## Results", ""]
    if result is not None:
        lines += [f"Test accuracy: **{result.accuracy:.2%}** ({result.n_correct:,} of {len(result.y_true):,} test "
                  "images read right).", "", class_table(result, info.class_names), "",
                  f"The {CONFUSIONS} most frequent confusions on the test set:", "",
                  confusions_text(result, info.class_names)]
    else:
        lines.append("Not measured on the test set yet.")
    for key, label in (("val_accuracy", "Validation accuracy"), ("accuracy", "Training accuracy")):
        if key in run.metrics:
            lines.append(f"{label} (the weights kept): {run.metrics[key]:.2%}.")
    kind = "MNIST-style handwritten digits" if info.is_digits else f"{info.name} images"
    test = f"{len(result.y_true):,}" if result is not None else "the test"
    lines += ["", "## Limits", "", LIMITS_TEXT.format(kind=kind, test=test).rstrip()]
    return "\n".join(lines) + "\n"

