"""Content made only when it is looked at: expanders and tabs whose closed content costs nothing."""

from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def lazy_expander(label: str, key: str, **kwargs) -> tuple[DeltaGenerator, bool]:
    """An expander, and whether it is open: its content is made only while it is (opening it reruns).

    A closed expander's content still costs the browser its drawing. A code block loads the syntax
    highlighter (0.5 to 0.8 s per page load in headless Chromium on 2 cores), a chart plotly.js
    work, a table the grid: together they made a lab's reload 1 to 2 s slower.
    """
    box = st.expander(label, key=key, on_change="rerun", **kwargs)
    return box, bool(box.open)


def lazy_tabs(views: dict[str, Callable[[], None]], key: str) -> None:
    """Tabs of which only the open one is made (`views`: label -> what draws it; clicking a tab reruns).

    The first tab is open until another is chosen; `st.session_state[key]` holds the open tab's label,
    so a page can open one for the visitor (Draw's "See inside the network" opens Evaluate's).
    """
    tabs = st.tabs(list(views), key=key, on_change="rerun")
    for tab, draw in zip(tabs, views.values()):
        if tab.open:
            with tab:
                draw()
