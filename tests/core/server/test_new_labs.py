"""Tests for core.server.new_labs: new labs per browser session and per client address per hour."""

from concurrent.futures import ThreadPoolExecutor

from core.i18n import translate
from core.server.new_labs import NewLabCounter, claim_new_lab, new_lab_refusal


def test_a_session_starts_at_most_its_labs_an_hour(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_NEW_LABS_PER_HOUR", "3")
    counter = NewLabCounter()
    assert [claim_new_lab(counter, "tab", None, now=t) for t in (0.0, 10.0, 20.0)] == [None] * 3
    refused = claim_new_lab(counter, "tab", None, now=30.0)
    assert refused.startswith("This browser tab has started 3 new labs in the last hour")
    assert "DIGITLAB_MAX_NEW_LABS_PER_HOUR" in refused
    assert new_lab_refusal(counter, "tab", None, now=30.0) == refused
    assert claim_new_lab(counter, "another tab", None, now=30.0) is None  # no address: sessions only
    assert new_lab_refusal(counter, "tab", None, now=3600.5) is None  # the first one is an hour old
    assert claim_new_lab(counter, "tab", None, now=3600.5) is None
    assert claim_new_lab(counter, "tab", None, now=3601.0) is not None


def test_an_address_starts_at_most_its_labs_an_hour_whatever_its_sessions(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_NEW_LABS_PER_HOUR_PER_ADDRESS", "4")
    counter = NewLabCounter()
    assert [claim_new_lab(counter, f"tab {i}", "10.0.0.1", now=0.0) for i in range(4)] == [None] * 4
    refused = claim_new_lab(counter, "tab 5", "10.0.0.1", now=1.0)
    assert refused.startswith("4 new labs have been started from your network")
    assert claim_new_lab(counter, "tab 5", "10.0.0.2", now=1.0) is None  # another address
    assert counter.count("session:tab 5", now=1.0) == 1  # the refused claim counted nothing


def test_claims_from_many_threads_never_pass_the_limit(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_NEW_LABS_PER_HOUR_PER_ADDRESS", "10")
    counter = NewLabCounter()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: claim_new_lab(counter, f"tab {i}", "10.0.0.1", now=0.0), range(50)))
    assert sum(answer is None for answer in answers) == 10


def test_the_counter_forgets_the_oldest_keys_past_its_size():
    counter = NewLabCounter(max_keys=3)
    for i in range(5):
        counter.claim({f"session:{i}": 1}, now=float(i))
    assert [counter.count(f"session:{i}", now=5.0) for i in range(5)] == [0, 0, 1, 1, 1]


def test_a_refusal_translates_in_spanish_and_german(monkeypatch):
    monkeypatch.setenv("DIGITLAB_MAX_NEW_LABS_PER_HOUR", "1000")
    counter = NewLabCounter()
    for _ in range(1000):
        assert claim_new_lab(counter, "tab", None, now=1.0) is None
    refused = new_lab_refusal(counter, "tab", None, now=2.0)
    assert refused is not None
    assert translate("es", refused).startswith("Esta pestaña del navegador ha creado 1.000 laboratorios nuevos")
    assert translate("de", refused).startswith("Dieser Browser-Tab hat in der letzten Stunde 1.000 neue Labore")
