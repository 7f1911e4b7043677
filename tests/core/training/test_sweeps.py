import pytest

from core.i18n import translate
from core.model.settings import DEFAULT_VALUES
from core.model.spec import SpecError
from core.server.board import Board as SweepBoard
from core.training.local import TrainingJob
from core.training.queue import TrainingSlots
from core.training.sweeps import (
    SWEEPABLE,
    make_sweep,
    member_name,
    new_sweep_tag,
    parse_sweep_values,
    rank_members,
    read_sweep_values,
    sweep_specs,
    tag_of_name,
)
from tests.harness.polling import poll_until

# A few seconds of Digits per member.
TINY = {**DEFAULT_VALUES, "dataset": "digits", "hidden": "8", "optimizer": "adam", "lr": 0.01,
        "batch": 64, "epochs": 3, "limit": 256}


def test_the_default_sets_are_valid_and_the_optimizers_are_the_seeds_grid():
    assert SWEEPABLE["optimizer"] == ("sgd", "rmsprop", "adam", "adamax", "nadam")
    for key, values in SWEEPABLE.items():
        assert parse_sweep_values(key, values) == list(values)
        assert len(sweep_specs(DEFAULT_VALUES, key, values)) == len(values)


def test_values_are_read_from_text_through_the_settings_table():
    assert parse_sweep_values("optimizer", "SGD, rmsprop  Adam") == ["sgd", "rmsprop", "adam"]
    assert parse_sweep_values("batch", "16 32;128") == [16, 32, 128]
    assert parse_sweep_values("hidden", "64; 128, 64\n512") == ["64", "128, 64", "512"]
    assert parse_sweep_values("hidden", [(128, 64), "32"]) == ["128, 64", "32"]
    values, notes = read_sweep_values("dropout", "0, 0.5, 0.95")
    assert values == [0.0, 0.5, 0.9] and notes == ["dropout='0.95' is out of range; using 0.9"]
    values, notes = read_sweep_values("lr", "0.001, 0.05")  # between a select slider's stops: the nearest
    assert values == [0.001, 0.03] and "using 0.03" in notes[0]


@pytest.mark.parametrize("key, text, message", [
    ("optimizer", "adam, adamw", "(optimizer): 'adamw' is not one of SGD, RMSprop"),
    ("lr", "0.1, fast", "(learning rate): 'fast' is not a number"),
    ("hidden", "64; 12x", "(hidden layers): write whole numbers"),
    ("optimizer", "adam, Adam", "(optimizer): Adam is listed twice"),
    ("lr", "10, 20", "(learning rate): 1 is listed twice ('10' and '20')"),  # both clamp to the top
    ("batch", "32", "at least 2 values (here 1)"),
    ("dropout", ", ".join(f"{v / 10:g}" for v in range(9)), "at most 8 values (here 9)"),
    ("epochs", "5, 10", "sweep: 'epochs' cannot be changed"),
])
def test_bad_values_are_named(key, text, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_sweep_values(key, text)


def test_members_share_every_setting_but_one_and_are_all_checked_first():
    members = sweep_specs(TINY, "optimizer", ["sgd", "adam"])
    assert [label for label, _ in members] == ["optimizer=SGD", "optimizer=Adam"]
    (_, sgd), (_, adam) = members
    assert (sgd.optimizer, adam.optimizer) == ("sgd", "adam")
    assert sgd.momentum == 0.9 and adam.momentum == 0.0  # momentum applies to SGD only
    assert sgd.network == adam.network and sgd.epochs == adam.epochs == 3
    heavy = {**TINY, "dataset": "mnist", "limit": 0, "epochs": 200}
    with pytest.raises(SpecError) as caught:
        sweep_specs(heavy, "hidden", ["2048, 2048", "4096", "8"])
    assert set(caught.value.errors) == {"hidden=2048, 2048", "hidden=4096"}  # each member's own problem
    with pytest.raises(SpecError) as caught:  # the form's problem, the same for every member: said once, by field
        sweep_specs({**TINY, "hidden": "0"}, "optimizer", ["sgd", "adam", "nadam"])
    assert caught.value.errors == {"network.hidden_layers": "each number must be a whole number from 1 to 2048"}


def test_a_sweep_can_vary_the_kind_of_network_and_the_training_images():
    (_, dense), (_, cnn) = sweep_specs(TINY, "kind", ["dense", "cnn"])
    assert (dense.network.kind, cnn.network.kind) == ("dense", "cnn") and cnn.network.conv_filters == (32,)
    assert dense.network.hidden_layers == cnn.network.hidden_layers == (8,)
    assert parse_sweep_values("kind", "Dense layers; cnn") == ["dense", "cnn"]
    limits = [spec.train_limit for _, spec in sweep_specs(TINY, "limit", parse_sweep_values("limit", "100, 500, 0"))]
    assert limits == [100, 500, None]  # 0 is all of them


def test_tags_and_names():
    tags = {new_sweep_tag() for _ in range(20)}
    assert all(len(tag) == 4 for tag in tags) and len(tags) > 10
    name = member_name("ab12", "optimizer=Adam")
    assert name == "Sweep ab12 · optimizer=Adam" and tag_of_name(name) == "ab12"
    assert tag_of_name("Run 3 · Digits (8x8) · 15 sigmoid · SGD 0.1") is None


class Member:
    def __init__(self, name, val_accuracy):
        self.name, self._history = name, {"val_accuracy": val_accuracy} if val_accuracy else {}

    def history(self):
        return self._history


def test_ranking_by_best_validation_accuracy_is_stable():
    members = [Member("a", [0.5, 0.7]), Member("b", None), Member("c", [0.9, 0.6]), Member("d", [0.7]),
               Member("e", None)]
    assert [m.name for m in rank_members(members)] == ["c", "a", "d", "b", "e"]


def test_a_sweep_of_three_trains_each_member_as_an_ordinary_run():
    slots = TrainingSlots(2)
    sweep = make_sweep(TINY, "optimizer", "sgd, adam, nadam",
                       make_job=lambda spec, name: TrainingJob(spec, name=name, slots=slots), tag="ab12")
    assert [m.job.name for m in sweep.members] == [
        "Sweep ab12 · optimizer=SGD", "Sweep ab12 · optimizer=Adam", "Sweep ab12 · optimizer=Nadam"]
    assert all(m.job.sweep == "ab12" for m in sweep.members) and [m.index for m in sweep.members] == [0, 1, 2]
    sweep.start_all()
    poll_until(lambda: sweep.done or any("Waiting for a free slot" in m.job.snapshot().message
                                          for m in sweep.members), what="a member waiting for a slot")
    assert slots.running <= 2  # the third waits for a slot like any training
    for member in sweep.members:
        member.job.join(60)
    assert sweep.done and sweep.counts() == {"finished": 3} and sweep.summary() == "3 finished"
    assert sweep.fraction() == 1.0
    rows = sweep.results()
    best = [r["best val accuracy"] for r in rows]
    assert best == sorted(best, reverse=True) and all(r["epochs"] == 3 for r in rows)
    assert {r["member"] for r in rows} == {"optimizer=SGD", "optimizer=Adam", "optimizer=Nadam"}


def test_stop_all_stops_running_and_waiting_members():
    slots = TrainingSlots(1)
    long = {**TINY, "batch": 8, "epochs": 200}
    sweep = make_sweep(long, "lr", [0.001, 0.01, 0.1],
                       make_job=lambda spec, name: TrainingJob(spec, name=name, slots=slots)).start_all()
    poll_until(lambda: any(m.job.snapshot().batch_logs for m in sweep.members), timeout=60,
               what="a member's first batch", interval=0.05)
    assert sweep.counts().get("waiting") == 2
    sweep.stop_all()
    for member in sweep.members:
        member.job.join(30)
    assert sweep.done and sweep.counts() == {"stopped": 3}
    assert all(m.job.message == "The sweep was stopped." for m in sweep.members)
    trained = [m for m in sweep.members if m.job.model is not None]
    assert len(trained) == 1 and len(trained[0].job.history().get("loss", [])) < 200
    assert sweep.ranked()[0] is trained[0]


def test_the_board_finds_a_sweep_by_owner():
    board, sweep = SweepBoard(), make_sweep(TINY, "batch", [32, 64])
    board.put("lab:1", sweep)
    assert board.get("lab:1") is sweep and board.get("lab:2") is None
    board.drop("lab:1")
    assert board.get("lab:1") is None


def test_an_ended_sweep_leaves_the_board_once_no_tab_watches_and_lets_go_of_its_models():
    watching = [True]
    sweep = make_sweep(TINY, "batch", [32, 64], make_job=lambda spec, name: TrainingJob(
        spec, is_alive=lambda: watching[0], slots=TrainingSlots(2), name=name))
    board = SweepBoard()
    board.put("lab:1", sweep.start_all())
    for member in sweep.members:
        member.job.join(60)
    assert sweep.settled and board.reap() == []  # a tab still shows it
    watching[0] = False
    assert board.reap() == ["lab:1"] and board.get("lab:1") is None
    assert all(m.job.model is None and not m.job.snapshot().batch_logs for m in sweep.members)
    assert [len(m.job.history()["loss"]) for m in sweep.members] == [3, 3]  # the results table still reads


def test_a_bad_sweep_value_is_explained_in_each_language():
    with pytest.raises(SpecError) as caught:
        parse_sweep_values("kind", "dense, dense")
    assert translate("es", caught.value.errors["kind"]) == "Capas densas está dos veces"
    with pytest.raises(SpecError) as caught:
        parse_sweep_values("optimizer", "adam")
    assert translate("de", caught.value.errors["optimizer"]) == "ein Vergleich braucht mindestens 2 Werte (hier 1)"
