"""The one model picker of Evaluate and Draw: current model, any run, the bundled default, or an upload.

The choice is kept under a plain session key, so both pages show the same model. An upload that
fails to load is refused with a message and the previous choice stays.
"""

from __future__ import annotations

import streamlit as st

from core.data.datasets import DATASETS, datasets_of_shape, get_info
from core.i18n import N_, message_of
from core.model.default_model import DEFAULT_MODEL_INFO
from core.model.files import ModelFileError, vet_upload
from core.model.run import Run
from core.server import warmup
from ui import state
from ui.i18n import _
from ui.session import CURRENT, PICKED, PICKED_WITH, PICKER, SAVE_ERROR, UPLOAD_ERROR, UPLOADS_DONE
from ui.text import plain

DEFAULT = "default"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # as server.maxUploadSize in .streamlit/config.toml


@st.cache_resource(show_spinner=False)  # the spinner's text would be one language for everyone: see below
def shared_default_model():
    """The bundled model: loaded once, shared read-only by every session (never trained further).

    The same object as the home page's (core.server.warmup loads it, perhaps already in the background).
    """
    return warmup.MODEL.get()


def default_run() -> Run:
    with st.spinner(_("Loading the default model…")):
        model = shared_default_model()
    return Run(run_id=0, name=default_run_name(), dataset=DEFAULT_MODEL_INFO["dataset"],
               model=model, status=DEFAULT_MODEL_INFO["description"], source="default")


def add_upload(upload, page: str) -> None:
    """Load an uploaded file safely; on success it joins the runs and becomes the choice."""
    done = UPLOADS_DONE.ensure()
    if upload.file_id in done:
        return
    done.add(upload.file_id)
    try:
        vetted = vet_upload(upload.getvalue(), upload.name, MAX_UPLOAD_BYTES)
    except ModelFileError as error:
        UPLOAD_ERROR.of(page).set(plain(_("Could not use {file}: {error}").format(
            file=upload.name, error=_(message_of(error)))))
        return
    run = Run(run_id=state.next_run_id(), name=_("Uploaded · {name}").format(name=vetted.name), dataset=vetted.dataset,
              model=vetted.model, metrics=vetted.metrics, history=vetted.history, status=_("Uploaded"),
              source="uploaded")
    if not state.add_run(run, make_current=False, model_file=upload.getvalue()):
        reason = SAVE_ERROR.pop("")
        UPLOAD_ERROR.of(page).set(plain(_("Could not keep {file}: {reason}").format(file=upload.name,
                                                                                   reason=_(reason))))
        return
    choose(run.run_id)


def choose(choice: int | str) -> None:
    PICKED.set(choice)
    PICKED_WITH.set(CURRENT.get())


def pick_model(page: str) -> Run:
    """Render the picker (in the sidebar) and return the chosen run; the default model if none."""
    runs = state.usable_runs()
    current = state.current_run()
    # A new current model (a training just ended) becomes the choice; so does a first visit.
    if PICKED_WITH.get() != CURRENT.get() or not PICKED.present():
        choose(current.run_id if current else DEFAULT)
    options = [r.run_id for r in reversed(runs)] + [DEFAULT]
    if PICKED.get() not in options:
        choose(current.run_id if current else DEFAULT)
    names = {r.run_id: _("{name} (current)").format(name=r.name) if r is current else r.name for r in runs}
    names[DEFAULT] = default_run_name()

    with st.sidebar:
        st.subheader(_("Model"))
        key = PICKER.of(page)
        key.set(PICKED.get())  # the shared choice, set before the widget
        st.selectbox(_("Model"), options, format_func=names.get, key=key,
                     on_change=lambda: choose(key.get()))
        upload = st.file_uploader(_("…or upload a model"), type=["keras", "h5"], key=f"{page}_upload",
                                  help=_("A Keras model saved with model.save('name.keras') or, as the classic "
                                         "tutorials do, model.save('name.h5'); for 8x8 or 28x28 images."))
        if upload is not None:
            before = PICKED.get()
            add_upload(upload, page)
            if PICKED.get() != before:
                st.rerun()  # show the new choice in the select box
        if error := UPLOAD_ERROR.of(page).pop():
            st.error(error)
        run = default_run() if PICKED.get() == DEFAULT else state.find_run(PICKED.get())
        try:
            state.load_model(run)
        except ModelFileError as error:
            st.error(_("{error} Showing the bundled model instead.").format(
                error=plain(_(message_of(error)))))  # it may name the run
            run = default_run()
        if run.source == "uploaded":
            choose_dataset(run, page)
    return run


def choose_dataset(run: Run, page: str) -> None:
    """An uploaded 28x28 model may be MNIST or Fashion-MNIST: let the user say which."""
    fits = datasets_of_shape(get_info(run.dataset).image_shape)
    if len(fits) > 1:
        chosen = st.selectbox(_("Trained on"), fits, index=fits.index(run.dataset),
                              format_func={k: _(DATASETS[k].name) for k in fits}.get,
                              key=f"{page}_upload_dataset_{run.run_id}")
        if chosen != run.dataset:
            state.save_fields(run, dataset=chosen)


def default_run_name() -> str:
    """The bundled model's name, '… (bundled)', in the visitor's language."""
    return _(BUNDLED).format(name=_(DEFAULT_MODEL_INFO["name"]))


BUNDLED = N_("{name} (bundled)")
