"""Visitors' text (run names, upload names) in plotly figures, shown as typed and never read as markup.

Plotly renders a subset of HTML in trace names, legends, hover texts, titles and annotations
(<a href>, <b>, <br>, <span style>...): a run named '<a href="https://evil.example">click</a>' would
be a link in a shared run's chart. `plain_label` escapes the three characters that make markup;
plotly turns &lt; &gt; &amp; back into the characters they stand for (it knows no other named
entities, so quotes are left as they are). Every figure builder that takes such a text passes it
through here. ui/text.py does the same for the pages' markdown.
"""

from __future__ import annotations

import html


def plain_label(text: object) -> str:
    """`text` with <, > and & escaped, for a plotly trace name, hover text, title or annotation."""
    return html.escape(str(text), quote=False)
