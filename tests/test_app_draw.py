"""AppTest of the Draw page: drawings are injected through the canvas' session state."""

import base64
import io

from PIL import Image

from tests.conftest import open_page
from tests.harness.drawings import make_drawings, render_drawing


def as_data_url(rgba) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def draw(at, rgba):
    key = f"draw_canvas_{at.session_state['draw_clears']}"
    at.session_state[key] = {"drawing": {"raw": {"objects": []}, "data": as_data_url(rgba)}}
    return at.run()


def test_empty_canvas_prompts_and_predicts_nothing():
    at = open_page("draw")
    assert not at.exception
    assert any("Draw a digit" in i.value for i in at.info)
    assert not at.metric


def test_default_model_reads_drawn_digits():
    at = open_page("draw")
    drawings = make_drawings(seed=3)
    for label, strokes in drawings[5::10]:  # one of each digit
        draw(at, render_drawing(strokes))
        assert not at.exception
        assert next(m for m in at.metric if m.label == "Prediction").value == str(label)
    assert any("What the model sees" in c for grid in at.image for c in grid.captions)


def test_a_dot_and_a_full_canvas_do_not_crash():
    import numpy as np

    at = open_page("draw")
    dot = np.zeros((280, 280, 4), np.uint8)
    dot[..., 3] = 255
    dot[140:142, 140:142, :3] = 255
    draw(at, dot)
    assert not at.exception and any("Draw a digit" in i.value for i in at.info)
    full = np.full((280, 280, 4), 255, np.uint8)
    draw(at, full)
    assert not at.exception and at.metric  # a white square is read as something, calmly


def test_a_digits_model_reads_drawings_at_8x8(digits_run):
    at = open_page("draw", [digits_run])
    label, strokes = make_drawings()[0]
    draw(at, render_drawing(strokes))
    assert not at.exception
    assert any(m.label == "Prediction" for m in at.metric)
    assert any("(8x8)" in c for grid in at.image for c in grid.captions)


def test_clear_empties_the_canvas():
    at = open_page("draw")
    label, strokes = make_drawings()[44]
    draw(at, render_drawing(strokes))
    assert at.metric
    next(b for b in at.button if b.label == "Clear").click().run()
    assert not at.exception and not at.metric
    assert any("Draw a digit" in i.value for i in at.info)


def photo_of(index: int) -> bytes:
    """A synthetic phone photo (JPEG bytes) of one held-out drawing."""
    import numpy as np

    from tests.harness.photos import make_photo

    return make_photo(make_drawings()[index][1], np.random.default_rng(index))


def test_a_photo_of_a_digit_is_read_and_explained():
    at = open_page("draw")
    at.radio(key="draw_source").set_value("photo").run()
    assert any("Send a photo" in i.value for i in at.info)
    at.file_uploader(key="photo_upload").upload("seven.jpg", photo_of(75), "image/jpeg").run()
    assert not at.exception and not at.error
    assert next(m for m in at.metric if m.label == "Prediction").value == "7"
    assert any("What the model sees" in c for grid in at.image for c in grid.captions)
    assert at.session_state["draw_image"].shape == (28, 28)


def test_a_bad_photo_file_gets_a_message_not_a_traceback():
    at = open_page("draw")
    at.radio(key="draw_source").set_value("photo").run()
    at.file_uploader(key="photo_upload").upload("notes.png", b"not a picture at all", "image/png").run()
    assert not at.exception
    assert any("not a picture the app can read" in e.value for e in at.error)
    assert not at.metric


def test_a_test_image_chosen_by_its_label_is_read():
    at = open_page("draw")
    at.radio(key="draw_source").set_value("test").run()
    at.radio(key="draw_test_digit").set_value(3).run()
    assert not at.exception
    first = at.session_state["draw_image"].copy()
    assert next(m for m in at.metric if m.label == "Prediction").value == "3"
    at.button(key="test_another").click().run()
    assert not at.exception and (at.session_state["draw_image"] != first).any()


def test_the_add_picker_keeps_its_digit_on_a_second_click():
    at = open_page("draw")
    label, strokes = make_drawings()[95]
    draw(at, render_drawing(strokes))
    picker = at.radio(key="draw_add_label")  # a radio: a click on the chosen digit cannot unselect it
    assert picker.value == 9 and picker.options[-1] == "9"


def test_see_inside_the_network_and_back_keeps_the_drawing():
    """Draw's "See inside the network" opens Evaluate; coming back, the same drawing is still read."""
    at = open_page("draw")
    label, strokes = make_drawings(seed=3)[7]
    draw(at, render_drawing(strokes))
    before = next(m for m in at.metric if m.label == "Prediction").value
    at.button(key="draw_inside").click().run()
    assert not at.exception
    assert at.session_state["evaluate_tab"] == "Inside the network"  # Evaluate, its Inside tab
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert not any("Draw a digit" in i.value for i in at.info)  # not an empty box again
    assert next(m for m in at.metric if m.label == "Prediction").value == before
