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


def test_a_new_models_training_leaves_nothing_in_tensorflows_gradient_registry():
    """Each traced train step of a new model registered a gradient that TensorFlow never frees
    (about 1.3 MB a training, for good): build_training_state makes the optimizer skip it."""
    from tensorflow.python.framework import ops

    from core.model.network import build_training_state

    spec = TrainSpec(dataset="digits", network=NetworkSpec(hidden_layers=(8,)), optimizer="adam", epochs=1)
    x, y = np.random.default_rng(0).random((32, 8, 8, 1), "float32"), np.arange(32) % 10

    def train_a_new_model() -> int:
        model = build_model(spec)
        build_training_state(model, x[:8], y[:8])
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        return len(ops._gradient_registry.list())

    first = train_a_new_model()
    assert [train_a_new_model() for _ in range(3)] == [first] * 3
