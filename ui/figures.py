"""Charts that everyone can read: the figure with a sentence of what it shows, and its numbers one click away.

`show_chart` draws a plotly figure in the visitor's language (titles, axes and legend through `_()`),
gives it the sentence of `core.figures.described` as `alt` (what a screen reader says), writes
the sentence under it, and puts the numbers in a closed "The numbers" expander (a table,
made only when opened: ui.lazy).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.figures.described import Description, figure_table
from ui.i18n import _, translate_figure
from ui.lazy import lazy_expander
from ui.text import plain


def show_numbers(rows: list[dict], key: str, container: Any = st) -> None:
    """A closed "The numbers" expander holding `rows` as a table (made only when it is opened)."""
    if not rows:
        return
    with container if container is not st else nullcontext():  # the st module is not a context manager
        box, is_open = lazy_expander(_("The numbers"), key=f"{key}_numbers", icon=":material/table:")
    if is_open:
        box.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def show_chart(fig: go.Figure, description: Description | str, key: str, container: Any = st,
               caption: bool = True, **kwargs: Any) -> Any:
    """The chart in this session's language, `description` as its alt text (and caption), its numbers below.

    `description`: a Description (sentence and rows), or a sentence alone (the rows then come from the
    figure's own points). Returns what st.plotly_chart returns (the selection when `on_select` is set).
    """
    sentence = description.sentence if isinstance(description, Description) else description
    rows = description.rows if isinstance(description, Description) and description.rows else figure_table(fig)
    shown = container.plotly_chart(translate_figure(fig), key=key, alt=_(sentence), **kwargs)
    if caption:
        container.caption(plain(_(sentence)))  # it may hold a run's name: anyone's text, shown as typed
    show_numbers(rows, key, container)
    return shown
