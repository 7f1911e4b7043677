"""The one owner of this tab's session state: every key the app reads or writes, in one table.

Each key is a `Key` (a str, so `st.session_state[RUNS]` still works in tests) with its default and
meaning, read and written through its own methods; keys made of parts (a page's upload error, a
learning history's cell) are a `KeyFamily` and `family.of(part)` gives one. Widget ids that the app
only passes as `key=` are not listed; those it also reads back or presets are. No other module of
app.py, pages/ or ui/ touches `st.session_state`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import streamlit as st

if TYPE_CHECKING:
    from core.model.run import Run

T = TypeVar("T")
_MISSING: Any = object()


class Key(str, Generic[T]):
    """One session-state key: the string is its name; `factory` makes the default a fresh value (a dict, a list)."""

    meaning: str
    default: Any
    factory: Callable[[], Any] | None

    def __new__(cls, name: str, meaning: str, default: Any = None, factory: Callable[[], Any] | None = None):
        key = super().__new__(cls, name)
        key.meaning, key.default, key.factory = meaning, default, factory
        return key

    def _default(self) -> Any:
        return self.factory() if self.factory is not None else self.default

    def get(self, default: Any = _MISSING) -> T:
        """The value, else `default` (else the key's own default, not stored)."""
        return st.session_state.get(self, self._default() if default is _MISSING else default)

    def set(self, value: T) -> T:
        st.session_state[self] = value
        return value

    def pop(self, default: Any = None) -> T:
        """The value, removed (said-once messages); `default` when there is none."""
        return st.session_state.pop(self, default)

    def ensure(self) -> T:
        """The value, the default stored first when there is none (a dict or list to change in place)."""
        return st.session_state.setdefault(self, self._default())

    def present(self) -> bool:
        return self in st.session_state


class KeyFamily:
    """Keys made of a pattern and parts: `pattern.format(*parts)`, e.g. "{}_upload_error" per page."""

    def __init__(self, pattern: str, meaning: str, default: Any = None):
        self.pattern, self.meaning, self.default = pattern, meaning, default

    def of(self, *parts: Any) -> Key:
        return Key(self.pattern.format(*parts), self.meaning, self.default)

    def present_keys(self) -> Iterator[Key]:
        """The keys of this family in the session now (a pattern with one part at its end)."""
        prefix = self.pattern.split("{}")[0]
        for name in list(st.session_state):
            if str(name).startswith(prefix):
                yield Key(str(name), self.meaning, self.default)


# -- Language (ui/i18n.py) ---------------------------------------------------------------------
LANGUAGE: Key[str | None] = Key("language", "this session's language code (core.i18n.LANGUAGES), None until chosen")

# -- The lab and its runs (ui/lab.py, ui/state.py) ---------------------------------------------
LAB: Key[Any] = Key("lab", "the ui.lab.Lab this tab has open, or None")
STORE_PROBLEM: Key[str | None] = Key("store_problem", "why nothing is saved, once said")
NEW_LAB_REFUSED: Key[str | None] = Key("new_lab_refused", "why this tab may not start a new lab now")
NEW_LAB_REFUSED_NOW: Key[str | None] = Key("new_lab_refused_now", '"Start a new lab" was refused, said once')
LAB_DONE: Key[str | None] = Key("lab_done", "what was just done to the lab (a copy, a new link), said once")
LAB_NOTICE: Key[str | None] = Key("lab_notice", "the lab link opened nothing, or the lab was deleted, said once")
RUNS: Key[list[Run]] = Key("runs", "list[Run] of this tab, oldest first", factory=list)
CURRENT: Key[int | None] = Key("current_run_id", "the current model's run id, or None")
JOB: Key[Any] = Key("training_job", "the job this tab last saw (a mirror of the board's, for the tests)")
COUNTER: Key[int] = Key("run_counter", "last id handed out to a run that is not in the store (negative)", 0)
SOURCES: Key[dict] = Key("model_sources", "{run id: (blob names, fetch(name) -> bytes)}", factory=dict)
SAVE_ERROR: Key[str | None] = Key("save_error", "what could not be saved, for the page to say once")
SHARE_LINKS: Key[dict] = Key("share_links", "{run id: share link} just made on Train", factory=dict)

# -- Train (pages/train.py, ui/settings_form.py, ui/sweep_view.py, ui/my_digits.py) ------------
SETTINGS: Key[dict] = Key("train_settings", "the Train page's widget values, kept across pages", factory=dict)
PRESET: Key[str | None] = Key("preset", "widget: the classic recipe chosen (its id in PRESETS), or None")
TRAIN_MODE: Key[str] = Key("train_mode", "widget: the Train page's mode: train, compare or fine_tune", "train")
UNDO_RECIPE: Key[dict | None] = Key("undo_recipe", "the form's values before a recipe was applied, for Undo")
FORM_OF_JOB: Key[Any] = Key("form_of_job", "the running job or sweep whose settings the form was set to (its id)")
DATASET_OK: Key[bool] = Key("dataset_ok", "the chosen dataset could be loaded", False)
START_ERROR: Key[str | None] = Key("start_error", "why Start training did nothing, said once")
LINK_NOTES: Key[list[str] | None] = Key("link_notes", "what a settings link could not fill in, said once")
WATCHED_JOB: Key[Any] = Key("watched_job", "the job this tab saw running")
POLLED_QUEUE: Key[bool] = Key("polled_queue", "the live fragment polls at the queue's slow rate", False)
SWEEP_SETTING: Key[str | None] = Key("sweep_setting", "widget: the setting a sweep varies")
SWEEP_VALUES = KeyFamily("sweep_values_{}", "widget: a sweep's values of one setting")
SWEEP_ERROR: Key[str | None] = Key("sweep_error", "why Start sweep did nothing, said once")
SWEEP_NOTES: Key[list[str] | None] = Key("sweep_notes", "what the sweep's values were read as, said once")
SWEEP_SEEN: Key[tuple | None] = Key("sweep_seen", "(tag, members ended) as of the last full page run")
FINE_TUNE_ERROR: Key[str | None] = Key("fine_tune_error", "why fine-tuning did not start, said once")

# -- Evaluate, Draw, Home (pages/, ui/explanations.py, ui/model_picker.py, ui/my_digits.py) ----
HOME_EVALUATE: Key[bool] = Key("home_evaluate", "the home page's Evaluate link was clicked", False)
EVALUATION_CACHE: Key[dict] = Key("evaluation_cache", "{(model id, dataset): EvaluationResult}, this session's",
                                  factory=dict)
CONFUSION_MATRIX: Key[Any] = Key("confusion_matrix", "widget: Evaluate's matrix chart and its selection")
LAST_CLICKED_CELL: Key[tuple | None] = Key("last_clicked_cell", "the matrix cell clicked last")
CELL_TRUTH: Key[int] = Key("cell_truth", "widget: the chosen cell's true class")
CELL_PRED: Key[int] = Key("cell_pred", "widget: the chosen cell's predicted class")
DRAW_IMAGE: Key[Any] = Key("draw_image", "the Draw page's drawing, preprocessed: (H, W) float32 0..1")
EVALUATE_TABS: Key[str] = Key("evaluate_tab", "widget: the open tab of Evaluate")
INSIDE_SOURCE: Key[str] = Key("inside_source", "widget: the Inside tab's image choice")
PICKED: Key[Any] = Key("picked_model", "the model chosen on Evaluate and Draw: a run id, or 'default'")
PICKED_WITH: Key[int | None] = Key("picked_with_current", "the current run id when the choice was made")
UPLOADS_DONE: Key[set] = Key("uploads_done", "model file ids already loaded: a rerun must not load them again",
                             factory=set)
UPLOAD_ERROR = KeyFamily("{}_upload_error", "a page's model upload failed, said once")
PICKER = KeyFamily("{}_model_select", "widget: a page's model picker")
EVAL_DATA: Key[str] = Key("evaluate_data", 'widget: Evaluate\'s "Test on" radio')
EVAL_USED: Key[str | None] = Key("evaluate_data_used", "what Evaluate tested on in its last run")
# Evaluate's widgets whose ranges are the number of images: reset when the data tested on changes.
EVALUATE_DATA_WIDGETS = ("inside_index", "cell_page", "mistakes_page", "correct_page", "cell_pick", "mistakes_pick",
                         "correct_pick")
EVAL_SEEN: Key[dict] = Key("evaluate_data_seen", "{(model id, dataset): data token} of the cached results",
                           factory=dict)
CONVERTED: Key[dict] = Key("my_digits_converted", "{(version, shape, value max): images}", factory=dict)
EXPORTS: Key[dict] = Key("code_view_exports", "{(run_id, format key): zip bytes} built this session", factory=dict)
LEARNING_FIGURES: Key[dict] = Key("learning_history_figures", "{key prefix: ((record, cell), figure)}", factory=dict)
HISTORY_CELL = KeyFamily("{}_{}", "widget or state of one learning history (prefix, part)")
CANVAS_CLEARS = KeyFamily("{}_clears", "how often a drawing box was cleared (its canvas' generation)", 0)
EXPLAIN_CLASS = KeyFamily("{}_explain", "widget: a drawing box's class to explain")
DIGIT_SOURCE: Key[str] = Key("draw_source", "widget: how the Draw page is given a digit (draw, photo, test image)")
PHOTO_CAMERA: Key[bool] = Key("draw_photo_camera", "widget: the Draw page's camera is on", False)
TEST_DIGIT: Key[int] = Key("draw_test_digit", "widget: the label of the test image chosen on Draw", 7)
TEST_TURN: Key[int] = Key("draw_test_turn", "which test image of the chosen label Draw shows (Another one)", 0)
SAVED_CANVAS = KeyFamily("{}_saved_canvas", "a drawing box's strokes and image kept while the visitor is away")
DIGIT_PARTS = KeyFamily("{}_{}", "an Add-to-my-digits box's label, reading, added or error")

# -- My digits (pages/digits.py) ---------------------------------------------------------------
DIGITS_SHOWN: Key[int | None] = Key("digits_shown", "widget: the digit whose images are shown")
DIGITS_GALLERY_PAGE = KeyFamily("digits_page_{}", "widget: the gallery page of one digit", 1)
DIGIT_PICK = KeyFamily("digit_pick_{}", 'widget: a digit\'s "Delete" tick', False)
DIGITS_UPLOADS_DONE: Key[set] = Key("digits_uploads_done", "file ids already added", factory=set)
DIGITS_UPLOAD_NOTE: Key[tuple | None] = Key("digits_upload_note", "(file id, error?, text) of the last upload")
DIGITS_NOTE: Key[str | None] = Key("digits_note", "what the last delete did, said once")

# -- Classes (ui/classes.py, pages/board.py) ---------------------------------------------------
BOARD: Key[tuple | None] = Key("class_board", "(teacher key, class id) this tab's board opened, or None")
CLASS_NOTICE: Key[str | None] = Key("class_notice", "what was just done with a class (joined, left), said once")
BOARD_NOTICE: Key[str | None] = Key("board_notice", "what the teacher just did on the board, said once")

# -- Results and coming back (ui/outcome.py, ui/runs_view.py, ui/lab.py) ------------------------
OUTCOME_GO: Key[str | None] = Key("outcome_go", "the page an end-of-training next step opens, once")
RUNS_VIEW: Key[str] = Key("runs_view", "widget: the open tab of the runs' views on Train")
REMEMBER_LAB = KeyFamily("remember_lab_{}", 'widget: "Remember my lab on this computer", per lab id', False)
REMEMBER_OFF: Key[bool] = Key("remember_off", '"Remember my lab" was turned off in this tab: forget the key', False)


def forget(*keys: str) -> None:
    """Remove keys (their widgets start afresh)."""
    for key in keys:
        st.session_state.pop(key, None)


def widget_value(key: str, default: Any = None) -> Any:
    """A table-driven widget's value (the Train form's settings: core.model.settings keys)."""
    return st.session_state.get(key, default)


def has_widget(key: str) -> bool:
    return key in st.session_state


def set_widgets(values: dict[str, Any]) -> None:
    """Preset table-driven widgets (the Train form's settings) before they are drawn."""
    st.session_state.update(values)


def forget_lab_state() -> None:
    """A new lab (or none) for this tab: the runs, the current model and the model choice start afresh."""
    forget(CURRENT, SOURCES, PICKED, PICKED_WITH, EVALUATION_CACHE)
    RUNS.set([r for r in RUNS.ensure() if r.source == "shared"])

# -- Lessons (ui/lessons.py, pages/learn.py) ------------------------------------------------------
LESSONS_LOCAL: Key[dict] = Key("lessons_local", "{lesson key: LessonProgress} of a tab whose lab cannot be saved",
                               factory=dict)
LESSON_EVENTS_LOCAL: Key[list] = Key("lesson_events_local", "[(kind, value)] of a tab whose lab cannot be saved",
                                     factory=list)
LESSON_ACTIVE: Key[str | None] = Key("lesson_active", "the lab's lesson in progress, as the last page run read it")
LESSON_AWAITS: Key[str | None] = Key("lesson_awaits", "the event kind the current step's check waits for, if any")
LESSON_LAST_EVENT: Key[tuple | None] = Key("lesson_last_event", "the last event recorded by this tab (no repeats)")
LESSON_GO: Key[str | None] = Key("lesson_go", "the page a lesson button asked to open after its click")
LESSON_NOTE: Key[str | None] = Key("lesson_note", "a lesson finished, or its progress not saved, said once")
LESSON_ANSWER = KeyFamily("lesson_answer_{}", "widget: the answer typed or chosen for one step's question")
