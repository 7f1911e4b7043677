"""Visitors' text is shown as plain text (ui/text.py); the browser test of labs sees it on the page."""

from ui.text import plain


def test_every_markup_character_is_escaped():
    assert plain("a*b_c") == r"a\*b\_c"
    assert plain("[x](y)") == r"\[x\]\(y\)"
    assert plain("../../etc/passwd") == r"\.\./\.\./etc/passwd"

