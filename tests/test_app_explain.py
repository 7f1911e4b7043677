"""AppTests of "Why this answer" (Draw, Evaluate's Look closer) and Evaluate's "Inside the network" tab."""

import pytest

from core.analysis.evaluation import rank_mistakes
from core.model.run import make_run
from core.model.spec import NetworkSpec, TrainSpec
from tests.conftest import open_page, open_tab
from tests.harness.drawings import make_drawings, render_drawing
from tests.test_app_draw import draw
from ui.explanations import EVALUATE_TABS, INSIDE_SOURCE, INSIDE_TAB, YOUR_DRAWING
from ui.text import plain


def untrained_run(run_id: int, network: NetworkSpec):
    """A Digits run of an untrained network (its explanations and insides still have to show)."""
    from core.model.network import build_model

    spec = TrainSpec(dataset="digits", network=network, epochs=1, seed=0)
    return make_run(run_id, spec, build_model(spec), {}, status="Untrained.", seconds=0.0)


@pytest.fixture(scope="module")
def digits_cnn_run():
    return untrained_run(2, NetworkSpec(kind="cnn", conv_filters=(8,), hidden_layers=(16,)))


def why_maps(at) -> dict[str, tuple]:
    """{'Why 3?': image shape, ...} of every explanation map on the page."""
    found = {}
    for element in at.image:
        for caption in element.captions:
            if caption.startswith("Why "):
                found[caption] = element
    return found


def sentences(at) -> list[str]:
    return [m.value for m in at.markdown if "counted" in m.value]


def tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def open_inside(at):
    at.session_state[EVALUATE_TABS] = INSIDE_TAB
    return at.run()


def prediction(at) -> str:
    return next(m for m in at.metric if m.label == "Prediction").value


# --- Draw ----------------------------------------------------------------------------------------


def test_draw_explains_the_prediction_and_any_class():
    at = open_page("draw")
    label, strokes = [d for d in make_drawings(seed=0) if d[0] == 3][0]
    draw(at, render_drawing(strokes))
    assert not at.exception
    assert prediction(at) == "3"
    assert list(why_maps(at)) == ["Why 3?"]
    assert any(s.endswith(".") and "for 3" in s for s in sentences(at)), sentences(at)
    assert any("pushed towards" in m.value and "pushed against" in m.value for m in at.markdown)  # the legend

    at.selectbox(key="draw_explain").select(7).run()
    assert not at.exception
    assert list(why_maps(at)) == ["Why not 7?"]
    assert any("for 7" in s for s in sentences(at)) and not any("for 3" in s for s in sentences(at))

    # A new stroke keeps the chosen class; "The prediction" follows the reading again.
    label, strokes = [d for d in make_drawings(seed=0) if d[0] == 0][0]
    at.session_state["draw_clears"] += 1
    draw(at, render_drawing(strokes))
    assert at.selectbox(key="draw_explain").value == 7 and list(why_maps(at)) == ["Why not 7?"]
    at.selectbox(key="draw_explain").select("prediction").run()
    assert list(why_maps(at)) == [f"Why {prediction(at)}?"]


@pytest.mark.parametrize("kind", ["dense", "cnn"])
def test_draw_explains_digits_models_at_8x8(kind, digits_run, digits_cnn_run):
    run = digits_run if kind == "dense" else digits_cnn_run
    at = open_page("draw", [run])
    label, strokes = make_drawings()[0]
    draw(at, render_drawing(strokes))
    assert not at.exception
    maps = why_maps(at)
    assert list(maps) == [f"Why {prediction(at)}?"]
    assert len(sentences(at)) == 1
    assert any("(8x8)" in c for grid in at.image for c in grid.captions)


def test_see_inside_the_network_opens_evaluate_with_the_drawing(digits_cnn_run):
    at = open_page("draw", [digits_cnn_run])
    label, strokes = make_drawings()[0]
    draw(at, render_drawing(strokes))
    next(b for b in at.button if b.label == "See inside the network").click().run()
    assert not at.exception
    assert any(t.value == "Evaluate" for t in at.title)
    inside = tab(at, INSIDE_TAB)
    assert at.radio(key=INSIDE_SOURCE).value == YOUR_DRAWING
    texts = [m.value for m in inside.markdown]
    assert "**The first layer's 8 filters**" in texts
    assert f"**{plain('conv_1 → pool_1')}**" in texts  # layer names are the file's text: plain
    assert any(c == "Your drawing" for i in inside.image for c in i.captions)
    assert len(inside.image) == 3  # filters, the drawing, one block's maps


# --- Evaluate ------------------------------------------------------------------------------------


def test_look_closer_explains_prediction_and_truth_of_a_mistake(digits_run):
    at = open_page("evaluate", [digits_run])
    result = at.session_state["evaluation_cache"][(id(digits_run.model), "digits")]
    mistakes = open_tab(at, EVALUATE_TABS, "All mistakes")
    picked = at.session_state["mistakes_pick"]  # the image looked at closer (the select box shows its caption)
    pred, truth = int(result.y_pred[picked]), int(result.y_true[picked])
    assert pred != truth
    assert list(why_maps(mistakes)) == [f"Why {pred}?", f"Why not {truth}?"]
    assert len(sentences(mistakes)) == 2
    correct = open_tab(at, EVALUATE_TABS, "Correct examples")
    picked = at.session_state["correct_pick"]
    assert list(why_maps(correct)) == [f"Why {int(result.y_true[picked])}?"]
    # Another image: its own maps.
    second = int(rank_mistakes(result)[1])
    mistakes = open_tab(at, EVALUATE_TABS, "All mistakes")
    mistakes.selectbox(key="mistakes_pick").select(second).run()
    picked = at.session_state["mistakes_pick"]
    assert picked == second
    assert list(why_maps(tab(at, "All mistakes"))) == [f"Why {int(result.y_pred[picked])}?",
                                                       f"Why not {int(result.y_true[picked])}?"]


def test_inside_a_dense_network_shows_its_unit_weights(digits_run):
    at = open_inside(open_page("evaluate", [digits_run]))
    assert not at.exception
    inside = tab(at, INSIDE_TAB)
    assert "**What the first layer's units look for**" in [m.value for m in inside.markdown]
    assert any("All 32 units, strongest first" in c.value for c in inside.caption)
    assert len(inside.image) == 1
    assert any(i.value == "This network has no convolution layers, so it has no filters or feature maps."
               for i in inside.info)


def test_inside_softmax_regression_shows_the_class_templates():
    at = open_inside(open_page("evaluate", [untrained_run(3, NetworkSpec(hidden_layers=()))]))
    assert not at.exception
    inside = tab(at, INSIDE_TAB)
    assert "**What each class looks for**" in [m.value for m in inside.markdown]
    assert len(inside.image) == 1


def test_inside_the_bundled_cnn_shows_filters_and_feature_maps(mnist_sample):
    at = open_inside(open_page("evaluate", timeout=120))
    assert not at.exception
    inside = tab(at, INSIDE_TAB)
    texts = [m.value for m in inside.markdown]
    assert "**The first layer's 32 filters**" in texts
    blocks = [t for t in texts if "→" in t]
    assert len(blocks) == 2 and all(plain("max_pooling2d") in b for b in blocks), blocks
    assert len(inside.image) == 1 + 1 + 2  # filters, the test image, two blocks of maps
    assert not inside.info  # nothing missing
    assert not inside.radio  # no drawing yet: only test images
    inside.number_input(key="inside_index").set_value(7).run()
    assert any(c == "Test image #7" for i in tab(at, INSIDE_TAB).image for c in i.captions)
    assert any(c.value.startswith("Predicted ") for c in tab(at, INSIDE_TAB).caption)
