"""Evaluate: test accuracy, the confusion matrix, the images behind every cell, and why the model read them so."""

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.evaluation import (
    compute_class_metrics,
    most_confused_pairs,
    paginate,
    predict_probabilities,
    rank_correct,
    rank_mistakes,
    select_cell,
    summarize_predictions,
)
from core.data.datasets import DatasetUnavailable, data_source, get_info, to_model_input
from core.figures.confusion import plot_class_metrics, plot_confusion_matrix, read_selected_cell
from core.figures.described import describe_class_metrics, describe_confusion, describe_probabilities
from core.figures.images import to_thumbnails
from core.figures.probabilities import plot_probabilities
from core.i18n import LANGUAGES, N_, translate
from core.model.files import ModelFileError, check_model_fits
from core.words import EVALUATE_WORDS, METRIC_WORDS
from ui import lessons
from ui.epochs_view import show_learning_history
from ui.explanations import (
    EVALUATE_TABS,
    INSIDE_SOURCE,
    INSIDE_TAB,
    TEST_IMAGE,
    YOUR_DRAWING,
    drawing_for,
    show_feature_maps,
    show_filters,
    show_first_layer,
    show_legend,
    show_why,
)
from ui.figures import show_chart
from ui.i18n import _, decimal, ngettext, number, percent
from ui.layout import start_page
from ui.lazy import lazy_tabs
from ui.model_picker import pick_model
from ui.my_digits import on_my_digits, pick_evaluation_data
from ui.outcome import MATRIX_TAB
from ui.session import CELL_PRED, CELL_TRUTH, CONFUSION_MATRIX, EVALUATION_CACHE, LAST_CLICKED_CELL
from ui.text import plain

MATRIX_TAB_NAME = N_("Confusion matrix")  # ui.outcome.MATRIX_TAB: the first tab's name, translated here too
PER_PAGE = 24
THUMBNAIL = 100  # px: wide enough for a two-line caption
CACHE_SIZE = 4


def classifying_text(count: int) -> str:
    """'Classifying 2,000 test images…' in the visitor's language."""
    return ngettext("Classifying {count} test image…", "Classifying {count} test images…", count).format(
        count=number(count))


def whole_percent(share: float) -> str:
    """0.953 -> '95%' ('95 %' in Spanish and German): short enough for a thumbnail's caption."""
    return percent(round(share, 2))


def caption_of(pred_name: str, confidence: float, truth_name: str) -> str:
    """A thumbnail's caption: 'Predicted 7 (97%) · Truth 1'."""
    return _("Predicted {predicted} ({sure}) · Truth {truth}").format(
        predicted=pred_name, sure=whole_percent(confidence), truth=truth_name)


def alt_of(pred_name: str, truth_name: str) -> str:
    """What a screen reader says for one thumbnail: 'a 7 read as 1', or 'a 7 read right'."""
    if pred_name == truth_name:
        return _("A {truth}, read right").format(truth=truth_name)
    return _("A {truth} read as {predicted}").format(truth=truth_name, predicted=pred_name)


def predict_with_progress(model, x_test, info) -> np.ndarray:
    """Probabilities for the whole test set, with a progress bar (a CNN takes a few seconds)."""
    bar = st.progress(0.0, text=classifying_text(len(x_test)))
    probs = predict_probabilities(model, to_model_input(x_test, info), progress=lambda done: bar.progress(
        done, text=_("Classifying… {done}").format(done=whole_percent(done))))
    bar.empty()
    return probs


@st.cache_resource(show_spinner=False, max_entries=2)
def evaluate_default_model(dataset: str, _model, _x_test, y_test):
    """The bundled model's results: the same for every visitor, so computed once per server."""
    return summarize_predictions(y_test, predict_probabilities(_model, to_model_input(_x_test, get_info(dataset))))


def evaluate_once(run, x_test, y_test):
    """Predictions on the whole test set, computed once per (model, dataset) and then reused."""
    if run.source == "default" and not on_my_digits():  # the server-wide cache holds the test set's only
        with st.spinner(classifying_text(len(y_test))):
            return evaluate_default_model(run.dataset, run.model, x_test, y_test)
    cache = EVALUATION_CACHE.ensure()  # user models: this session's only
    key = (id(run.model), run.dataset)
    if key not in cache:
        probs = predict_with_progress(run.model, x_test, get_info(run.dataset))
        while len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = summarize_predictions(y_test, probs)
    return cache[key]


def show_gallery(title: str, indices, result, x_test, info, model, key: str, one_cell: bool = False) -> None:
    """One page of images in a single grid, captioned 'Predicted P (97%) · Truth T', and a closer look.

    `one_cell`: every image has the same truth and answer, which the title says: each caption says only
    how sure the network was ('97% sure'), not the same words twelve times.
    """
    class_names = info.class_names
    count = ngettext("{count} image", "{count} images", len(indices)).format(count=number(len(indices)))
    st.markdown("**" + title + "** — " + count)  # both already in the visitor's language
    if len(indices) == 0:
        st.caption(_("None."))
        return
    n_pages = paginate(indices, 1, PER_PAGE)[1]
    words = EVALUATE_WORDS["page"]
    page = st.number_input(_(words.label).format(pages=n_pages), 1, n_pages, key=f"{key}_page",
                           help=_(words.help)) if n_pages > 1 else 1
    shown = paginate(indices, page, PER_PAGE)[0]
    captions = [_("{sure} sure").format(sure=whole_percent(float(result.confidence[i]))) if one_cell else
                caption_of(class_names[result.y_pred[i]], float(result.confidence[i]),
                           class_names[result.y_true[i]]) for i in shown]
    alts = [alt_of(class_names[result.y_pred[i]], class_names[result.y_true[i]]) for i in shown]
    images = to_model_input(x_test[shown], info)[..., 0]  # (n, H, W) floats in 0..1, any dataset
    thumbnails = to_thumbnails(images, size=THUMBNAIL)
    st.image(thumbnails, caption=captions, width=THUMBNAIL, alt=alts)
    labels = {int(i): f"#{i}: {c}" for i, c in zip(shown, captions)}
    words = EVALUATE_WORDS["look_closer"]
    picked = st.selectbox(_(words.label), list(labels), format_func=labels.get, key=f"{key}_pick",
                          help=_(words.help))
    image = to_model_input(x_test[[picked]], info)[0, ..., 0]  # (H, W) floats in 0..1
    image_column, bars_column = st.columns([1, 3], vertical_alignment="center")
    pred_name, truth_name = class_names[result.y_pred[picked]], class_names[result.y_true[picked]]
    image_column.image(to_thumbnails(image[np.newaxis], size=168)[0],
                       caption=_("Test image #{number}").format(number=picked),
                       alt=alt_of(pred_name, truth_name))
    show_chart(plot_probabilities(result.probs[picked], class_names, int(result.y_pred[picked])),
               describe_probabilities(result.probs[picked], class_names), key=f"{key}_probs",
               container=bars_column)
    show_reasons(model, image, int(result.y_pred[picked]), int(result.y_true[picked]), class_names, key)


def show_reasons(model, image, pred: int, truth: int, class_names, key: str) -> None:
    """'Why 9?' for the prediction, and beside it 'Why not 1?' for the truth when they differ."""
    st.markdown("**{}**".format(_("Why this answer")))
    why_column, why_not_column = st.columns(3)[:2]
    with why_column:
        show_why(model, image, pred, class_names, predicted=True, key=f"{key}_why")
    if truth != pred:
        with why_not_column:
            show_why(model, image, truth, class_names, predicted=False, key=f"{key}_why_not")
    show_legend()


def read_cell_choice(num_classes: int, default: tuple[int, int]) -> tuple[int, int]:
    """The chosen cell: a click on the matrix moves the two select boxes (the keyboard way) to it.

    Read before the chart is drawn: a chart whose figure changes (the outline of the chosen
    cell, the rates toggle) starts with an empty selection.
    """
    cell = read_selected_cell(CONFUSION_MATRIX.get())
    if cell is not None and cell != LAST_CLICKED_CELL.get():
        CELL_TRUTH.set(cell[0])
        CELL_PRED.set(cell[1])
        lessons.record_event("cell_opened", f"{cell[0]}>{cell[1]}")
    LAST_CLICKED_CELL.set(cell)
    for key, value in zip((CELL_TRUTH, CELL_PRED), default):
        if key.get(num_classes) >= num_classes:  # first visit, or fewer classes
            key.set(value)
    return CELL_TRUTH.get(), CELL_PRED.get()


def open_cell(truth: int, predicted: int) -> None:
    """Button callback: the matrix's chosen cell becomes (truth, predicted)."""
    CELL_TRUTH.set(truth)
    CELL_PRED.set(predicted)


def show_confused_pairs(result, class_names) -> None:
    """The task of most visitors first: which digits it mixes up, in a sentence, each pair a button to its images."""
    pairs = most_confused_pairs(result.cm, 3)
    if not pairs:
        st.success(_("It read every test image right: there is no mix-up to show."))
        return
    truth, predicted, count = pairs[0]
    a, b = class_names[truth], class_names[predicted]
    sentence = ngettext("**It mixes up {a} and {b} most:** it read a {a} as {b} once.",
                        "**It mixes up {a} and {b} most:** it read a {a} as {b} {count} times.", count)
    st.markdown(sentence.format(a=plain(a), b=plain(b), count=number(count)) + " "
                + _("Its biggest mix-ups (click one to see its images):"))
    words = EVALUATE_WORDS["pair"]
    for column, (t, p, c) in zip(st.columns(len(pairs)), pairs):
        column.button(_(words.label).format(truth=class_names[t], predicted=class_names[p], count=c),
                      key=f"pair_{t}_{p}", help=_(words.help), on_click=open_cell, args=(t, p), width="stretch")


def show_confusion(result, x_test, info, model) -> None:
    n, class_names = result.num_classes, info.class_names
    show_confused_pairs(result, class_names)
    worst = most_confused_pairs(result.cm, 1)
    chosen = read_cell_choice(n, (worst[0][0], worst[0][1]) if worst else (0, 0))
    words = EVALUATE_WORDS["normalize"]
    normalize = st.toggle(_(words.label), key="normalize", help=_(words.help))
    show_chart(plot_confusion_matrix(result.cm, class_names, normalize, selected=chosen),
               describe_confusion(result.cm, class_names), key=CONFUSION_MATRIX, caption=False,
               on_select="rerun", selection_mode="points")
    note = EVALUATE_WORDS["matrix_note"]
    st.caption("{}: {} {}".format(
        _(note.label).format(images=number(len(result.y_true))), _(note.help),
        _("The diagonal (correct answers) is grey, so the mistakes stand out. "
          "Click a cell to see its images, or choose it here with the keyboard:")))
    c1, c2 = st.columns(2)
    truth_words, pred_words = EVALUATE_WORDS["truth"], EVALUATE_WORDS["predicted"]
    truth = c1.selectbox(_(truth_words.label), range(n), format_func=class_names.__getitem__, key=CELL_TRUTH,
                         help=_(truth_words.help))
    pred = c2.selectbox(_(pred_words.label), range(n), format_func=class_names.__getitem__, key=CELL_PRED,
                        help=_(pred_words.help))
    show_gallery(_("Truth {truth}, predicted {predicted}").format(truth=class_names[truth],
                                                                   predicted=class_names[pred]),
                 select_cell(result, truth, pred), result, x_test, info, model, key="cell", one_cell=True)


def show_per_class(result, class_names) -> None:
    metrics = compute_class_metrics(result.cm)
    st.markdown("\n".join(f"- **{_(METRIC_WORDS[k].label)}**: {_(METRIC_WORDS[k].help)}"
                          for k in ("precision", "recall", "f1", "support")))
    show_chart(plot_class_metrics(metrics, class_names), describe_class_metrics(metrics, class_names),
               key="class_metrics")
    table = pd.DataFrame({"class": class_names, **{k: metrics[k] for k in ("precision", "recall", "f1")},
                          "support": metrics["support"]})
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={k: st.column_config.NumberColumn(
                     _(METRIC_WORDS[k].label), help=_(METRIC_WORDS[k].help),
                     format="%.3f" if k != "support" else "%d")
                     for k in ("precision", "recall", "f1", "support")})
    st.caption(_("Which digits it mixes up most: the first tab, {tab}.").format(tab=_(MATRIX_TAB)))


def choose_inside_image(result, x_test, info) -> tuple[np.ndarray, str, str]:
    """The image to look inside the network with: a test image by number, or the Draw page's drawing.

    Returns (image (H, W) in 0..1, its name, what the model read in it).
    """
    drawing = drawing_for(info.image_shape)
    sources = [TEST_IMAGE] + ([YOUR_DRAWING] if drawing is not None else [])
    if INSIDE_SOURCE.get() not in sources:
        INSIDE_SOURCE.set(TEST_IMAGE)
    words = EVALUATE_WORDS["inside_image"]
    source = st.radio(_(words.label), sources, key=INSIDE_SOURCE, horizontal=True, help=_(words.help),
                      format_func={s: _(s) for s in sources}.get) if len(sources) > 1 else TEST_IMAGE
    if source == YOUR_DRAWING:
        return drawing, _(YOUR_DRAWING), _("The drawing on the Draw page.")
    n = len(x_test)
    words = EVALUATE_WORDS["test_image"]
    index = st.number_input(_(words.label).format(last=number(n - 1)), 0, n - 1, key="inside_index",
                            help=_(words.help))
    reading = caption_of(info.class_names[result.y_pred[index]], float(result.confidence[index]),
                         info.class_names[result.y_true[index]])
    return to_model_input(x_test[[index]], info)[0, ..., 0], _("Test image #{number}").format(number=index), \
        reading + "."


def tabs_in_language(views: dict) -> dict:
    """The tabs under their names in the visitor's language; the open tab's name (English when Draw chose
    "Inside the network", or another language's after a switch) becomes this language's."""
    opened = EVALUATE_TABS.get()
    for name in views:
        if opened in {name, *(translate(code, name) for code in LANGUAGES)}:
            EVALUATE_TABS.set(_(name))
    return {_(name): view for name, view in views.items()}


def show_inside(model, result, x_test, info) -> None:
    """The first layer's weights (dense networks) or filters, and every conv block's maps (CNNs)."""
    has_weights = show_first_layer(model, info.class_names)
    if not show_filters(model):
        if not has_weights:
            st.info(_("This network's first layer does not read the pixels directly, so it has no weights "
                      "to show as images."))
        st.info(_("This network has no convolution layers, so it has no filters or feature maps."),
                icon=":material/info:")
        return
    st.markdown("**{}**".format(_("What each convolution block makes of one image")))
    image, name, reading = choose_inside_image(result, x_test, info)
    # A short caption: an image is drawn as wide as its caption, and a wider one would blur it.
    st.image(to_thumbnails(image[np.newaxis], size=112)[0], caption=name, alt=f"{name}: {reading}")
    st.caption(reading)
    show_feature_maps(model, image)


start_page("Evaluate")
st.title(_("Evaluate"))
run = pick_model("evaluate")
info = get_info(run.dataset)
try:
    x_test, y_test, data_label = pick_evaluation_data(run, info)
    check_model_fits(run.model, info.image_shape, info.num_classes, dataset_name=info.name)
except (DatasetUnavailable, ModelFileError) as error:
    st.error(_(error.args[0]) if error.args and isinstance(error.args[0], str) else _(str(error)))
    st.stop()

st.caption(_("**{model}** on {data}.").format(model=plain(run.name), data=_(data_label)))
if not on_my_digits():
    # Not a caption: it may hold a link and a folder, which at a caption's faded colour fail WCAG contrast.
    st.markdown(_(data_source(run.dataset).sentence))  # the full set, a local copy, or the shipped sample and why
result = evaluate_once(run, x_test, y_test)
names = list(info.class_names)
c1, c2, c3 = st.columns(3)
for column, key, value in ((c1, "test_accuracy", percent(result.accuracy)), (c2, "test_loss", decimal(result.loss, 4))):
    column.metric(_(METRIC_WORDS[key].label), value, help=_(METRIC_WORDS[key].help))
    column.caption(_(METRIC_WORDS[key].help))  # its meaning in one line, seen without hovering
c3.markdown(_("**{right}** read right, **{wrong}** wrong, of {total} images").format(
    right=number(result.n_correct), wrong=number(result.n_wrong), total=number(len(result.y_true))))

# Lazy tabs: only the open one is made. The galleries explain their first image (a traced gradient
# per model) and the history is a large animated figure: made for every visit, they were most of
# the page's cost (bench.classroom: Evaluate's server time under a class's load). The tabs' state
# is EVALUATE_TABS: the Draw page can open "Inside the network".
TABS = {
    MATRIX_TAB: lambda: show_confusion(result, x_test, info, run.model),
    N_("All mistakes"): lambda: show_gallery(_("Misclassified, most confident first"), rank_mistakes(result),
                                             result, x_test, info, run.model, key="mistakes"),
    N_("Correct examples"): lambda: show_gallery(_("Correct, most confident first"), rank_correct(result), result,
                                                 x_test, info, run.model, key="correct"),
    N_("Per class"): lambda: show_per_class(result, names),
    INSIDE_TAB: lambda: show_inside(run.model, result, x_test, info),
    N_("Learning history"): lambda: show_learning_history(run, f"eval_history_{run.run_id}"),
}
lazy_tabs(tabs_in_language(TABS), key=EVALUATE_TABS)
