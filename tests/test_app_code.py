"""AppTest of "The code" (ui/code_view.py) on Train: the script shown, its downloads, a model format built on click."""

import dataclasses
import io
import zipfile

from core.export.code import script_for_run
from tests.conftest import open_page, open_tab
from ui.code_view import EXPORTS

CODE_TAB = "The code"


def download_labels(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_the_code_tab_shows_the_current_runs_script_and_its_downloads(digits_run):
    at = open_page("train", runs=[digits_run])
    open_tab(at, "runs_view", CODE_TAB)
    assert at.selectbox(key="code_view_run").value == digits_run.run_id
    script = at.code[-1]
    assert script.value == script_for_run(digits_run).rstrip("\n") and script.language == "python"
    labels = download_labels(at)
    for label in ("Script (.py)", "Notebook (.ipynb)", "Model card (.md)"):
        assert label in labels
    assert [b.label for b in at.button if b.label.startswith("Make ")] == [
        "Make Keras (.keras)", "Make TensorFlow SavedModel (zip)", "Make LiteRT / TFLite (zip)"]


def test_a_model_format_is_built_on_click_then_offered_for_download(digits_run):
    at = open_page("train", runs=[digits_run])
    open_tab(at, "runs_view", CODE_TAB)
    next(b for b in at.button if b.label == "Make LiteRT / TFLite (zip)").click().run()
    assert not at.exception
    (run_id, key), data = next(iter(at.session_state[EXPORTS].items()))
    assert (run_id, key) == (digits_run.run_id, "litert")
    assert {"model.tflite", "labels.txt", "use_it.py"} <= set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert "Download LiteRT / TFLite (zip)" in download_labels(at)
    assert "Make LiteRT / TFLite (zip)" not in [b.label for b in at.button]


def test_an_uploaded_model_says_it_has_no_code_and_still_offers_its_formats(digits_run):
    uploaded = dataclasses.replace(digits_run, run_id=2, name="my upload", spec=None, source="uploaded")
    at = open_page("train", runs=[uploaded])
    open_tab(at, "runs_view", CODE_TAB)
    assert any("not trained here" in i.value for i in at.info)
    assert "Script (.py)" not in download_labels(at) and "Model card (.md)" in download_labels(at)
    assert "Make LiteRT / TFLite (zip)" in [b.label for b in at.button]


def test_a_shared_runs_page_shows_its_code_and_card_but_no_model_formats(digits_run):
    from core.storage import sink as persistence
    from core.storage.store import open_store
    from tests.test_app_lab import open_with

    store = open_store()
    lab_id = store.open_lab(store.create_lab())
    run_id = store.save_run(lab_id, persistence.record_of(digits_run),
                            {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
    try:
        at = open_with("shared", run=store.share_run(lab_id, run_id))
        assert not at.exception
        assert "keras.utils.set_random_seed(SEED)" in at.code[-1].value
        assert {"Script (.py)", "Notebook (.ipynb)", "Model card (.md)"} <= set(download_labels(at))
        assert not [b for b in at.button if b.label.startswith("Make ")]
    finally:
        store.close()
