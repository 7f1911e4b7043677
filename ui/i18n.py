"""The visitor's language: chosen once per session, kept on every link, used by `_()` on every page.

`_("Train")` translates text written in ui and pages; it also takes text marked in core (`N_`,
`message`, see core.i18n). The language comes from `?lang=` (kept on every link, as the lab is),
else the browser's (`st.context.locale`), else English; the sidebar's picker changes it. It lives
in this session's state: never `gettext.install()`, which would give every visitor the last one's.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st
from babel.numbers import format_decimal
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Number,
    format_percent_in,
    format_value,
    pick_language,
    translate,
    translate_plural,
)
from ui.session import LANGUAGE

LANG_PARAM = "lang"
# The language of the last script run of this process, for a call from outside any script run. Only
# AppTest does that: it calls a widget's format_func from the test's own thread, where there is no
# session. In a server every _() runs inside its session's script run and reads that session's language.
_last_language = [DEFAULT_LANGUAGE]


def current_language() -> str:
    """This session's language code ("en", "es", "de")."""
    if get_script_run_ctx() is None:
        return _last_language[0]
    language = LANGUAGE.get()
    return language if language in LANGUAGES else choose_language()


def choose_language() -> str:
    """Settle this session's language from the link, else what it had, else the browser's; once per page run."""
    asked = st.query_params.get(LANG_PARAM)
    kept = LANGUAGE.get()
    if asked is None and kept in LANGUAGES:
        _last_language[0] = kept
        return kept
    locale = getattr(st.context, "locale", None)
    _last_language[0] = LANGUAGE.set(pick_language(asked if asked is not None else None, locale))
    return _last_language[0]


def _(text: str) -> str:
    """`text` in this session's language (a core Message: its template translated, then its values)."""
    return translate(current_language(), text)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The right form for `count` in this session's language (fill in the count after: `.format(n=count)`)."""
    return translate_plural(current_language(), singular, plural, count)


def percent(value: float) -> str:
    """0.961 -> '96.1%', or '96,1 %' in Spanish and German."""
    return format_percent_in(current_language(), value)


def number(value: float) -> str:
    """1294 -> '1,294', or '1.294' in German (the language's separators)."""
    return format_value(Number(value), current_language())


def decimal(value: float, places: int) -> str:
    """0.02183 with places=4 -> '0.0218', or '0,0218' in Spanish and German."""
    return format_decimal(value, format="0." + "0" * places, locale=current_language())


def language_params() -> dict[str, str]:
    """The query parameter that keeps a chosen language on the next page (none for English)."""
    language = current_language()
    return {} if language == "en" else {LANG_PARAM: language}


def set_language() -> None:
    """The picker's callback: the new language, in the session and in the address (so a shared link keeps it)."""
    language = LANGUAGE.set(st.session_state["language_picker"])
    if language == "en":
        st.query_params.pop(LANG_PARAM, None)
    else:
        st.query_params[LANG_PARAM] = language


def show_language_picker() -> None:
    """The sidebar's language choice, each language named in its own words."""
    codes = list(LANGUAGES)
    st.selectbox(_("Language"), codes, index=codes.index(current_language()), format_func=LANGUAGES.get,
                 key="language_picker", on_change=set_language)


def translate_figure(fig: go.Figure) -> go.Figure:
    """A figure's title, axis titles, trace names and colour keys in this session's language (core marks them)."""
    layout: Any = fig.layout
    if layout.title and layout.title.text:
        layout.title.text = _(layout.title.text)
    for axis in ("xaxis", "yaxis"):
        title = getattr(layout, axis).title
        if title and title.text:
            title.text = _(title.text)
    for trace in fig.data:
        if getattr(trace, "name", None):
            trace.name = _(trace.name)
        colorbar = getattr(trace, "colorbar", None)  # a heatmap's colour key ("Mistakes")
        if colorbar is not None and colorbar.title and colorbar.title.text:
            colorbar.title.text = _(colorbar.title.text)
    return fig
