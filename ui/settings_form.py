"""The Train page's settings form, drawn from the table in core.model.settings: one widget per entry.

Labels and help are core.words' (through the settings table). Widgets take whatever people type
(no min or max on number boxes, so 100000 stays 100000); validation (core.model.spec) says what is
wrong, once, under the field, in the field's own words, and the page disables Start meanwhile.
Widget values survive a visit to another page: Streamlit deletes a widget's state when its page
is left, so each value is also kept under a plain session key (`ui.session.SETTINGS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from core.model.settings import DEFAULT_VALUES, SETTINGS, Setting
from core.model.spec import SpecError, TrainSpec, problems_by_setting, spec_from_values
from ui import session
from ui.i18n import _
from ui.session import SETTINGS as SAVED


def remember(key: str) -> str:
    """A widget key whose value survives a visit to another page."""
    saved = SAVED.ensure()
    if not session.has_widget(key):
        session.set_widgets({key: saved.get(key, DEFAULT_VALUES[key])})
    saved[key] = session.widget_value(key)
    return key


def set_values(values: dict[str, Any]) -> None:
    """Put every widget (and its kept copy) to `values`, e.g. a recipe's."""
    session.set_widgets(values)
    SAVED.ensure().update(values)


def read_values() -> dict[str, Any]:
    """The form's values; a widget not on screen (the CNN's with a dense network) keeps its last value."""
    saved = SAVED.get()
    return {key: session.widget_value(key, saved.get(key, default)) for key, default in DEFAULT_VALUES.items()}


def check_values(values: dict[str, Any], ignore: Iterable[str] = ()) -> tuple[TrainSpec | None, dict[str, str]]:
    """(the spec, {}) when `values` are valid, else (None, {setting key: what is wrong}); `ignore`d keys
    (the setting a sweep varies) do not count."""
    try:
        return spec_from_values(values), {}
    except SpecError as error:
        problems = {k: v for k, v in problems_by_setting(error).items() if k not in set(ignore)}
        return None, problems


def current_as_default(setting: Setting, value: Any) -> dict[str, Any]:
    """The widget's own default set to its current value (`index=` or `value=`), for a browser that draws
    it afresh.

    A browser that loses a widget's state draws it again from the default the server sent, and sends
    that back. Without one, a select slider's default is its first option: in a class of 30 on one
    slow Chromium (bench/classroom), 23 of 30 trainings ran with learning rate 0.0001 and batch 8, the
    sliders' first options, after the student typed in another field. The session's value still wins
    over this default in every run (Streamlit only logs that both are set; .streamlit/config.toml
    turns that log off).
    """
    if setting.widget in ("selectbox", "radio") and value in setting.options:
        return {"index": setting.options.index(value)}
    if setting.widget == "select_slider" and value in setting.options:
        return {"value": value}
    if setting.widget == "slider" and isinstance(value, (int, float)) and setting.low <= value <= setting.high:
        return {"value": value}
    return {}


def show_setting(container: Any, setting: Setting, problem: str | None = None) -> None:
    """The widget of one setting, in `container` (a column or the page), and what is wrong with it under it."""
    key, label, kwargs = remember(setting.key), _(setting.label), {"help": _(setting.help)}
    option_label = lambda value: _(setting.label_of(value))  # noqa: E731  (core's words, in this language)
    kwargs |= current_as_default(setting, session.widget_value(key))
    if setting.widget == "selectbox":
        container.selectbox(label, setting.options, key=key, format_func=option_label, **kwargs)
    elif setting.widget == "radio":
        container.radio(label, setting.options, key=key, format_func=option_label, horizontal=True, **kwargs)
    elif setting.widget == "select_slider":
        container.select_slider(label, setting.options, key=key, format_func=option_label, **kwargs)
    elif setting.widget == "slider":
        container.slider(label, setting.low, setting.high, step=setting.step, key=key, **kwargs)
    elif setting.widget == "number_input":
        # No min or max: a number out of range stays as typed and is explained, never clamped.
        container.number_input(label, step=setting.step or 1, key=key, **kwargs)
    elif setting.widget == "sizes":
        container.text_input(label, key=key, **kwargs)
    else:
        raise ValueError(f"unknown widget {setting.widget!r} for setting {setting.key!r}")
    if problem:
        # The field's name and an icon beside the red: the problem is not told by colour alone.
        container.error(_("**{setting}**: {problem}.").format(setting=label, problem=_(problem)),
                        icon=":material/error:")


def show_section(section: str, problems: dict[str, str], variants: Iterable[dict[str, Any]] = ()) -> None:
    """The section's settings that apply to the values chosen so far (or to any of `variants`: a sweep's
    members; the setting they vary is the sweep's own, not shown), each with its problem under it;
    radios full width, the rest in two columns."""
    columns, placed = None, 0
    values = read_values()
    variants = list(variants)
    cases = [values, *({**values, **v} for v in variants)]
    varied = {key for variant in variants for key in variant}
    for setting in SETTINGS:
        if setting.section != section or setting.key in varied or not any(setting.shown(case) for case in cases):
            continue
        if setting.widget == "radio":
            show_setting(st, setting, problems.get(setting.key))
            columns, placed = None, 0
            continue
        columns = columns or st.columns(2)
        show_setting(columns[placed % 2], setting, problems.get(setting.key))
        placed += 1
