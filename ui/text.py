"""Visitors' text (run names, file names, metadata) shown as plain text, never read as markup."""

import re

# Markdown's and Streamlit's own markup: emphasis, links and images, headings, lists, tables, HTML,
# LaTeX ($), and Streamlit's :colour[...] and :material/icon: directives.
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: object) -> str:
    """`text` with every markup character escaped, for st.markdown, st.caption, st.title and friends."""
    return _MARKUP.sub(r"\\\1", str(text))
