import dataclasses
import json

import numpy as np
import pytest

from core.i18n import translate
from core.model.optimizers import OPTIMIZERS
from core.model.settings import DEFAULT_VALUES, SETTINGS
from core.model.spec import (
    PRESETS,
    NetworkSpec,
    SpecError,
    TrainSpec,
    count_weights,
    describe_spec,
    link_from_values,
    parse_sizes,
    problems_by_setting,
    spec_from_dict,
    spec_from_values,
    spec_to_dict,
    validate_spec,
    values_from_link,
    values_from_spec,
)
from core.words import SETTING_WORDS


def test_presets_are_valid_and_round_trip_through_json():
    for spec in PRESETS.values():
        assert validate_spec(spec) is spec
        assert spec_from_dict(json.loads(json.dumps(spec_to_dict(spec)))) == spec


def test_weight_counts_match_the_classic_models():
    assert count_weights(PRESETS["mnist_cnn"])[0] == 34_826  # keras-io mnist_convnet
    assert count_weights(PRESETS["mnist_dense"])[0] == 669_706
    assert count_weights(PRESETS["mnist_softmax"])[0] == 7_850
    assert count_weights(PRESETS["digits_tutorial"])[0] == 64 * 15 + 15 + 160


@pytest.mark.parametrize("changes, field", [
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": 100.0}, "learning_rate"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 10_000}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 1_000_000}, "batch_size"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"patience": -1}, "patience"),
    ({"train_limit": 3}, "train_limit"),
    ({"momentum": 1.5}, "momentum"),
    ({"network": NetworkSpec(hidden_layers=(0,))}, "network.hidden_layers"),
    ({"network": NetworkSpec(hidden_layers=(64,) * 9)}, "network.hidden_layers"),
    ({"network": NetworkSpec(activation="swish")}, "network.activation"),
    ({"network": NetworkSpec(dropout=1.0)}, "network.dropout"),
    ({"network": NetworkSpec(kind="rnn")}, "network.kind"),
    ({"network": NetworkSpec(kind="cnn", conv_filters=(32, 64, 128))}, "network.conv_filters"),
    ({"network": NetworkSpec(kind="cnn", conv_filters=())}, "network.conv_filters"),
    ({"dataset": "cifar"}, "dataset"),
])
def test_invalid_fields_are_named(changes, field):
    # 8x8 Digits: three 'valid' 3x3 conv blocks shrink the image to nothing.
    spec = TrainSpec(**{"dataset": "digits", **changes})
    with pytest.raises(SpecError) as error:
        validate_spec(spec)
    assert field in error.value.errors, error.value.errors


def test_huge_networks_and_hour_long_trainings_are_refused():
    wide = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(2048,) * 4))
    with pytest.raises(SpecError, match="too many"):
        validate_spec(wide)
    long = TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(256, 256), hidden_layers=(1024,)),
                     epochs=200)
    with pytest.raises(SpecError, match="hours"):
        validate_spec(long)
    # The same long run on a few hundred images is fine.
    short = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(512, 512)), epochs=200, train_limit=500)
    validate_spec(short)


def test_a_training_that_needs_too_much_memory_names_the_setting_to_lower(monkeypatch):
    # 256 filters on MNIST: 26x26x256 + 13x13x256 floats an image, times 512 images, kept for the backward pass.
    wide = TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(256,), hidden_layers=()),
                     batch_size=512, epochs=1)
    with pytest.raises(SpecError) as error:
        validate_spec(wide)
    message = error.value.errors["batch_size"]
    assert message.startswith("this network needs about 1.") and " GB of memory while training" in message
    assert message.endswith(f"lower {SETTING_WORDS['batch'].label} or {SETTING_WORDS['filters'].label}")
    validate_spec(dataclasses.replace(wide, batch_size=64))  # the same network in smaller batches fits
    monkeypatch.setenv("DIGITLAB_MAX_TRAINING_MB", "5000")
    validate_spec(wide)  # a server with more memory allows it


def test_a_million_batches_are_refused_and_the_message_says_what_to_raise():
    tiny_batches = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(15,)), batch_size=8, epochs=200)
    with pytest.raises(SpecError, match=r"1,500,000 steps.*more images per step \(batch size\)"):
        validate_spec(tiny_batches)
    validate_spec(dataclasses.replace(tiny_batches, epochs=100))


def test_the_memory_estimate_follows_the_layers_keras_builds():
    from core.model.network import build_model
    from core.model.spec import layer_outputs

    for spec in [*PRESETS.values(), TrainSpec(dataset="mnist", network=NetworkSpec(
            kind="cnn", conv_filters=(8, 16), kernel_size=5, hidden_layers=(32,), dropout=0.3))]:
        model = build_model(spec)
        built = [int(np.prod(layer.output.shape[1:])) for layer in model.layers]
        assert layer_outputs(spec) == built, spec


def test_spec_from_dict_refuses_unknown_fields():
    with pytest.raises(SpecError, match="unknown field"):
        spec_from_dict({"dataset": "digits", "layers": 3})
    with pytest.raises(SpecError):
        spec_from_dict(["not", "a", "dict"])


def test_parse_sizes():
    assert parse_sizes("512, 512", "hidden") == (512, 512)
    assert parse_sizes("  ", "hidden") == ()
    with pytest.raises(SpecError, match="hidden"):
        parse_sizes("512, lots", "hidden")


def test_describe_spec():
    assert describe_spec(PRESETS["mnist_dense"]) == "MNIST · 512-512 relu · Adam 0.001"
    assert "softmax regression" in describe_spec(PRESETS["mnist_softmax"])


def test_the_form_opens_on_the_first_classic_recipe():
    first = next(iter(PRESETS.values()))
    assert spec_from_values(DEFAULT_VALUES) == first  # what Start trains
    shown = {k: v for k, v in DEFAULT_VALUES.items() if k != "filters"}  # a CNN's, not shown for a dense network
    assert shown == {k: v for k, v in values_from_spec(first).items() if k != "filters"}


@pytest.mark.parametrize("name", list(PRESETS))
def test_widget_values_round_trip_every_recipe(name):
    spec = PRESETS[name]
    assert spec_from_values(values_from_spec(spec)) == spec


def test_a_setting_that_does_not_apply_takes_the_specs_default():
    values = {**DEFAULT_VALUES, "optimizer": "adam", "momentum": 0.5, "kind": "dense", "filters": "nonsense"}
    spec = spec_from_values(values)
    assert spec.momentum == TrainSpec().momentum and spec.network.conv_filters == NetworkSpec().conv_filters


def test_every_spec_field_has_one_setting():
    fields = {s.field for s in SETTINGS}
    assert len(fields) == len(SETTINGS)
    spec_fields = {f.name for f in dataclasses.fields(TrainSpec)} - {"network", "validation_fraction"}
    net_fields = {f"network.{f.name}" for f in dataclasses.fields(NetworkSpec)}
    assert fields == spec_fields | net_fields


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.is_number and s.widget != "sizes"], ids=str)
def test_validation_uses_each_settings_range(setting):
    values = values_from_spec(TrainSpec())
    too_big = setting.high + (1 if setting.integer else 0.5)
    with pytest.raises(SpecError) as error:
        spec_from_values({**values, setting.key: too_big, "optimizer": "sgd", "kind": "cnn"})
    assert setting.field in error.value.errors


def test_optimizers_take_only_their_own_settings():
    assert OPTIMIZERS["sgd"].settings == ("momentum",)
    assert all(not info.settings for key, info in OPTIMIZERS.items() if key != "sgd")


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_settings_link_round_trips_every_recipe(name):
    values = values_from_spec(PRESETS[name])
    read, problems = values_from_link(link_from_values(values))
    assert problems == [] and spec_from_values({**values, **read}) == PRESETS[name]


def test_bad_link_values_are_named_and_replaced_by_defaults_or_clamped():
    read, problems = values_from_link({
        "dataset": "cifar", "epochs": "1000", "lr": "0.0009", "hidden": "64, lots", "dropout": "nan",
        "filters": "32, 99999", "batch": "-3", "optimizer": "<script>", "lab": "anything", "seed": "1e30",
    })
    assert read["dataset"] == "digits" and read["epochs"] == 200 and read["lr"] == 0.001
    assert read["hidden"] == "15" and read["dropout"] == 0.0 and read["filters"] == "32, 256"
    assert read["batch"] == 8 and read["optimizer"] == "sgd" and read["seed"] == 2**31 - 1
    assert "lab" not in read
    named = " ".join(problems)
    for bad in ("dataset='cifar'", "epochs='1000'", "hidden='64, lots'", "dropout='nan'", "filters=", "batch='-3'",
                "optimizer='<script>'", "seed="):
        assert bad in named, bad
    spec_from_values({**DEFAULT_VALUES, **read})  # whatever a link says, the form's spec is valid


def test_a_refusal_reads_in_the_visitors_language_with_its_values_written_their_way():
    with pytest.raises(SpecError) as caught:
        spec_from_values({**DEFAULT_VALUES, "epochs": 500, "hidden": "64, x"})
    problems = problems_by_setting(caught.value)
    assert translate("es", problems["hidden"]) == (
        "escribe números enteros separados por comas, como 512, 256 (no '64, x')")
    too_long = TrainSpec(dataset="mnist", network=NetworkSpec(hidden_layers=(15,)), batch_size=8, epochs=200)
    with pytest.raises(SpecError) as caught:
        validate_spec(too_long)
    german = translate("de", caught.value.text)
    assert german.startswith("Durchgänge durch die Daten (Epochen): das wären 1.500.000 Schritte")
    assert "1,500,000 steps" in str(caught.value)  # English stays as it was


def test_a_bad_link_value_is_explained_in_each_language():
    _, problems = values_from_link({"kind": "huge", "epochs": "x"})
    assert [translate("de", p) for p in problems] == [
        "kind='huge' ist keins davon: dense, cnn; genommen wird Dichte Schichten",
        "epochs='x' ist keine Zahl; genommen wird 40"]
    assert translate("es", problems[0]).endswith("se usa Capas densas")
