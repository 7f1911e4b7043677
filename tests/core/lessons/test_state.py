"""core.lessons.state: a run's facts as the checks see them."""

from core.lessons.state import facts_from_run, network_of
from core.model.run import Run, make_run
from core.model.spec import NetworkSpec, TrainSpec


def test_the_kind_of_network_comes_from_the_form_values():
    assert network_of({"kind": "dense", "hidden": ""}) == "softmax"
    assert network_of({"kind": "dense", "hidden": "128"}) == "hidden"
    assert network_of({"kind": "cnn", "hidden": ""}) == "cnn"
    assert network_of({}) == "unknown"


def test_a_run_that_early_stopping_ended_before_its_epochs_stopped_early():
    spec = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(15,), dropout=0.2), epochs=20, patience=3)
    history = {"loss": [0.5, 0.4, 0.3, 0.3], "val_loss": [0.5, 0.4, 0.45, 0.5], "val_accuracy": [0.8, 0.9, 0.85, 0.8]}
    facts = facts_from_run(make_run(3, spec, None, history, "Stopped early.", 1.0, early_stopped=True))
    assert (facts.network, facts.dataset, facts.values["dropout"], facts.epochs_done) == ("hidden", "digits", 0.2, 4)
    assert facts.stopped_early and facts.val_accuracy == 0.9  # the kept (best) epoch's
    full = facts_from_run(make_run(4, spec, None, {"loss": [0.1] * 20}, "Finished.", 1.0))
    assert not full.stopped_early


def test_an_upload_without_a_spec_is_an_unknown_network():
    facts = facts_from_run(Run(run_id=1, name="mine.keras", dataset="mnist", model=None, source="uploaded"))
    assert facts.network == "unknown" and facts.values == {} and facts.val_accuracy is None
