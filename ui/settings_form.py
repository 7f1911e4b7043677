"""The Train page's settings form, drawn from the table in core.model.settings: one widget per entry.

Widget values survive a visit to another page: Streamlit deletes a widget's state when its page
is left, so each value is also kept under a plain session key (`ui.session.SETTINGS`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.model.settings import DEFAULT_VALUES, SETTINGS, Setting
from ui import session
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


def show_setting(container: Any, setting: Setting) -> None:
    """The widget of one setting, in `container` (a column or the page)."""
    key, label, kwargs = remember(setting.key), setting.label, {"help": setting.help}
    if setting.widget == "selectbox":
        container.selectbox(label, setting.options, key=key, format_func=setting.label_of, **kwargs)
    elif setting.widget == "radio":
        container.radio(label, setting.options, key=key, format_func=setting.label_of, horizontal=True, **kwargs)
    elif setting.widget == "select_slider":
        container.select_slider(label, setting.options, key=key, format_func=setting.label_of, **kwargs)
    elif setting.widget == "slider":
        container.slider(label, setting.low, setting.high, step=setting.step, key=key, **kwargs)
    elif setting.widget == "number_input":
        low = 0 if setting.zero_is_none else setting.low
        container.number_input(label, low, setting.high, step=setting.step or 1, key=key, **kwargs)
    elif setting.widget == "sizes":
        container.text_input(label, key=key, **kwargs)
    else:
        raise ValueError(f"unknown widget {setting.widget!r} for setting {setting.key!r}")


def show_section(section: str) -> None:
    """The section's settings that apply to the values chosen so far: radios full width, the rest in two columns."""
    columns, placed = None, 0
    for setting in SETTINGS:
        if setting.section != section or not setting.shown(read_values()):
            continue
        if setting.widget == "radio":
            show_setting(st, setting)
            columns, placed = None, 0
            continue
        columns = columns or st.columns(2)
        show_setting(columns[placed % 2], setting)
        placed += 1
