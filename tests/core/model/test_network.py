import numpy as np
import pytest

from core.model.network import build_model, summarize_model
from core.model.optimizers import OPTIMIZERS
from core.model.spec import NetworkSpec, TrainSpec

NETWORKS = {
    "dense": NetworkSpec(hidden_layers=(16, 8), dropout=0.2, l2=1e-4),
    "cnn": NetworkSpec(kind="cnn", conv_filters=(4,), kernel_size=3, hidden_layers=(8,), dropout=0.2),
    "softmax": NetworkSpec(hidden_layers=()),
}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("network", NETWORKS)
def test_every_optimizer_and_architecture_trains_a_step(optimizer, network):
    spec = TrainSpec(dataset="digits", network=NETWORKS[network], optimizer=optimizer,
                     learning_rate=0.01, momentum=0.9 if optimizer == "sgd" else 0.0)
    model = build_model(spec)
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 8, 8, 1), dtype=np.float32), rng.integers(0, 10, 16)
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"} and np.isfinite(logs["loss"])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    probs = model(x, training=False).numpy()
    assert probs.shape == (16, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_same_seed_same_weights():
    spec = TrainSpec(dataset="digits", network=NETWORKS["dense"], seed=7)
    a, b = build_model(spec).get_weights(), build_model(spec).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_summary_lists_layers_shapes_and_parameters():
    model = build_model(TrainSpec(dataset="mnist", network=NetworkSpec(kind="cnn", conv_filters=(32, 64),
                                                                        hidden_layers=(), dropout=0.5)))
    rows = summarize_model(model)
    assert [r["type"] for r in rows] == ["InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D",
                                         "Flatten", "Dropout", "Dense"]
    assert rows[1]["output shape"] == "(26, 26, 32)" and rows[5]["output shape"] == "(1600,)"
    assert sum(r["parameters"] for r in rows) == model.count_params() == 34_826
