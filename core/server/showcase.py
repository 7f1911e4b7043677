"""The home page's pictures, made from a real training: the Train page's Digits preset, once per server.

The Digits set ships with the app, so this works offline and needs no download. One small network
(the classic 64-15-10 sigmoid recipe, 40 epochs, a few seconds on 2 CPU cores) is trained in the
server's background warm-up (core.server.warmup), then evaluated on the Digits test set and asked why it
read one test digit as it did. Every picture on the home page's cards comes from that: nothing
pasted, nothing that goes stale. No Streamlit here; Keras is imported by the functions that need it.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from core.analysis.evaluation import most_confused_pairs, predict_probabilities, rank_mistakes, summarize_predictions
from core.analysis.explain.attribution import explain
from core.data.datasets import get_info, load_dataset, to_model_input
from core.figures import cards
from core.model.network import build_model
from core.model.spec import PRESETS, TrainSpec

PRESET = "digits_tutorial"
GALLERY_SIZE = 4  # mistakes shown, most confident first (one row)
EXPLAINED_CLASS = 3  # the "why" picture explains a test image of this digit that the network read right


@dataclass(frozen=True)
class Showcase:
    """What the training gave, and the pictures drawn from it (RGB uint8 arrays)."""

    spec: TrainSpec
    history: dict[str, list[float]]
    test_accuracy: float
    test_size: int
    mistakes: int
    cell: tuple[int, int, int] | None  # (truth, predicted, count) of the most frequent confusion
    seconds: float  # the training's wall time
    curve: np.ndarray
    confusion: np.ndarray
    gallery: np.ndarray | None  # None when the network made no mistake at all
    why: np.ndarray
    why_class: str

    preset: str = PRESET  # its name on the Train page

    @cached_property
    def png(self) -> dict[str, bytes]:
        """Each picture as PNG bytes, encoded once (a page showing arrays would encode them every run)."""
        pictures = {"curve": self.curve, "confusion": self.confusion, "gallery": self.gallery, "why": self.why}
        return {name: encode_png(picture) for name, picture in pictures.items() if picture is not None}


def encode_png(picture: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def train_preset(spec: TrainSpec):
    """(model, history, data) of one seeded training of `spec`, quietly, with a validation split."""

    data = load_dataset(spec.dataset, spec.validation_fraction, spec.train_limit, spec.seed)
    info = data.info
    model = build_model(spec)
    fit = model.fit(to_model_input(data.x_train, info), data.y_train, epochs=spec.epochs,
                    batch_size=spec.batch_size, verbose=0, shuffle=True,
                    validation_data=(to_model_input(data.x_val, info), data.y_val))
    history = {k: [float(v) for v in values] for k, values in fit.history.items()}
    return model, history, data


def explained_image(result, y_test: np.ndarray) -> int:
    """A test image of EXPLAINED_CLASS that the network read right (its most typical: median confidence)."""
    right = np.flatnonzero((y_test == EXPLAINED_CLASS) & (result.y_pred == y_test))
    if len(right) == 0:  # an unlikely network: any image it read right, else the first
        right = np.flatnonzero(result.y_pred == y_test)
        if len(right) == 0:
            return 0
    order = right[np.argsort(result.confidence[right], kind="stable")]
    return int(order[len(order) // 2])


def make_showcase(preset: str = PRESET) -> Showcase:
    """Train the preset on Digits, evaluate it on the test set, explain one digit, draw the pictures."""

    spec = PRESETS[preset]
    info = get_info(spec.dataset)
    start = time.perf_counter()
    model, history, data = train_preset(spec)
    seconds = time.perf_counter() - start
    x_test = to_model_input(data.x_test, info)
    result = summarize_predictions(data.y_test, predict_probabilities(model, x_test))
    pairs = most_confused_pairs(result.cm, k=1)
    cell = pairs[0] if pairs else None
    names = list(info.class_names)

    wrong = rank_mistakes(result)[:GALLERY_SIZE]
    gallery = None
    if len(wrong):
        captions = [f"{names[result.y_true[i]]} read as {names[result.y_pred[i]]}" for i in wrong]
        gallery = cards.render_gallery(data.x_test[wrong] / info.value_max, captions)

    index = explained_image(result, data.y_test)
    image = x_test[index]  # (H, W, 1) in 0..1
    target = int(result.y_pred[index])
    explanation = explain(model, image, target, names)
    return Showcase(
        spec=spec, history=history, test_accuracy=result.accuracy, test_size=len(data.y_test),
        mistakes=result.n_wrong, cell=cell, seconds=seconds, preset=preset,
        curve=cards.render_learning_curve(history),
        confusion=cards.render_confusion(result.cm, names, cell[:2] if cell else None),
        gallery=gallery,
        why=cards.render_why(image[..., 0], explanation.attributions, explanation.class_name),
        why_class=explanation.class_name,
    )
