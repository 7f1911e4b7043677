"""AppTest of coming back (ui/lab.py): the lab's link where it is seen, email it, remember it, continue it."""

from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from core.storage import sink as persistence
from core.storage.store import open_store
from core.words import RESULTS_WORDS
from ui import lab as labs

TIMEOUT = 60
CONTINUE = RESULTS_WORDS["continue_lab"].label
REMEMBER = RESULTS_WORDS["remember_lab"].label


@pytest.fixture
def lab_with_a_run(digits_run):
    """A lab's key holding `digits_run`."""
    store = open_store()
    key = store.create_lab()
    store.save_run(store.open_lab(key), persistence.record_of(digits_run),
                   {persistence.MODEL_BLOB: persistence.model_bytes(digits_run)})
    yield key
    store.close()


def open_app(page: str | None = None, cookie: str | None = None, monkeypatch=None, **params) -> AppTest:
    """The app (its home page, or pages/<page>.py) with these query parameters, in a browser whose
    remembered-lab cookie is `cookie` (AppTest has no connection: the cookie read is replaced)."""
    if monkeypatch is not None:
        monkeypatch.setattr(labs, "remembered_key", lambda: cookie if labs.is_well_formed(cookie) else None)
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


def test_after_the_first_run_the_labs_link_is_on_top_of_home_and_train_with_email_and_remember(lab_with_a_run):
    key = lab_with_a_run
    for page in (None, "train"):
        at = open_app(page, lab=key)
        [link] = [c.value for c in at.code if c.value.endswith(f"/?lab={key}")]
        email = next(b for b in at.get("link_button") if b.proto.label == RESULTS_WORDS["email_link"].label)
        parts = urlsplit(email.proto.url)
        assert parts.scheme == "mailto"
        query = parse_qs(parts.query)
        assert query["subject"] == ["My Digit Lab"] and link in query["body"][0]
        assert "%2F" in email.proto.url and " " not in email.proto.url  # URL-encoded
        remember = at.checkbox(key=f"remember_lab_{at.session_state['lab'].lab_id}")
        assert remember.label == REMEMBER and remember.value is False  # off by default
        assert RESULTS_WORDS["remember_lab"].help in [c.value for c in at.caption]


def test_a_lab_without_runs_shows_no_link_box():
    at = open_app("train", lab=open_store().create_lab())
    assert not at.code and not [c for c in at.get("checkbox") if c.label == REMEMBER]


def test_remember_writes_the_key_into_the_cookie_and_turning_it_off_forgets_it(lab_with_a_run):
    key = lab_with_a_run
    at = open_app("train", lab=key)
    box = f"remember_lab_{at.session_state['lab'].lab_id}"
    assert not [h for h in at.get("html") if labs.REMEMBER_COOKIE in h.proto.body]
    at.checkbox(key=box).check().run()
    [script] = [h.proto.body for h in at.get("html") if labs.REMEMBER_COOKIE in h.proto.body]
    assert f"{labs.REMEMBER_COOKIE}={key};" in script and f"max-age={labs.REMEMBER_SECONDS}" in script
    at.checkbox(key=box).uncheck().run()
    [script] = [h.proto.body for h in at.get("html") if labs.REMEMBER_COOKIE in h.proto.body]
    assert f"{labs.REMEMBER_COOKIE}=;" in script and "max-age=0" in script


def test_the_bare_address_in_a_browser_that_remembers_offers_continue_never_switching_by_itself(
        lab_with_a_run, monkeypatch):
    key = lab_with_a_run
    at = open_app(cookie=key, monkeypatch=monkeypatch)
    assert "lab" not in at.session_state and "lab" not in at.query_params  # nothing opened by itself
    at.button(key="continue_lab").click().run()
    assert not at.exception
    assert at.session_state["lab"].key == key and at.query_params["lab"] in (key, [key])
    assert not [b for b in at.button if b.label == CONTINUE]  # in the lab now: nothing more to offer
    # Its box says it is remembered here (ticked), and the runs are back.
    assert at.checkbox(key=f"remember_lab_{at.session_state['lab'].lab_id}").value is True
    assert [r.name for r in at.session_state["runs"]]


@pytest.mark.parametrize("cookie", [None, "", "x" * 31, "'; alert(1); '" + "x" * 20, "a" * 33, "a b" * 11])
def test_no_cookie_or_a_malformed_one_offers_nothing(cookie, monkeypatch):
    at = open_app(cookie=cookie, monkeypatch=monkeypatch)
    assert not [b for b in at.button if b.label == CONTINUE]


def test_the_real_cookie_reader_takes_only_well_formed_keys(monkeypatch):
    class Context:
        def __init__(self, cookies):
            self.cookies = cookies

    for value, expected in (("A" * 32, "A" * 32), ("A" * 32 + ";x", None), (None, None), ("<b>" * 11, None)):
        monkeypatch.setattr(labs.st, "context", Context({labs.REMEMBER_COOKIE: value} if value else {}))
        assert labs.remembered_key() == expected
    with pytest.raises(ValueError):
        labs.cookie_script("x'; document.location='evil")
