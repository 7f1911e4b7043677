"""The warm-up's tasks (done once, by whichever thread comes first) and the home page's card pictures."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.figures import cards
from core.server import warmup


def test_a_task_runs_once_and_every_thread_gets_its_result():
    calls = []

    def work():
        calls.append(threading.current_thread().name)
        time.sleep(0.2)  # a real wait is the point: slow work, so that the four threads overlap in it
        return 42

    task = warmup.Task("answer", work)
    assert not task.ready and not task.started
    threads = [threading.Thread(target=task.run, name=f"t{i}") for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and task.ready and task.result == 42 and task.seconds >= 0.2


def test_a_failed_task_raises_its_error_to_whoever_asks(monkeypatch):
    monkeypatch.setattr(warmup, "start", lambda: None)  # no real warm-up thread in this test
    task = warmup.Task("broken", lambda: 1 / 0)
    task.run()
    assert task.ready
    with pytest.raises(ZeroDivisionError):
        task.get(timeout=1)


def test_get_times_out_while_the_work_is_not_done(monkeypatch):
    monkeypatch.setattr(warmup, "start", lambda: None)
    task = warmup.Task("never started", lambda: 1)
    with pytest.raises(TimeoutError):
        task.get(timeout=0.05)


@pytest.mark.parametrize("value, on", [("0", False), ("off", False), ("1", True), (None, True)])
def test_the_warm_up_can_be_switched_off_for_tests(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(warmup.WARMUP_ENV, raising=False)
    else:
        monkeypatch.setenv(warmup.WARMUP_ENV, value)
    assert warmup.enabled() is on


def test_the_card_pictures_are_600_px_wide_rgb_images():
    history = {"accuracy": list(np.linspace(0.3, 0.99, 40)), "val_accuracy": list(np.linspace(0.5, 0.97, 40))}
    curve = cards.render_learning_curve(history)
    cm = np.diag(np.full(10, 30))
    cm[3, 5] = 4
    matrix = cards.render_confusion(cm, [str(d) for d in range(10)], (3, 5))
    gallery = cards.render_gallery(np.random.default_rng(0).random((4, 8, 8)), ["3 read as 5"] * 4)
    why = cards.render_why(np.eye(8), np.eye(8) - 0.5, "3")
    for picture in (curve, matrix, gallery, why):
        assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[1:] == (cards.WIDTH, 3)
    # The outlined cell is framed in near-black; the other mistakes are orange, the diagonal grey.
    assert (matrix < 40).all(axis=-1).sum() > 100
    assert not np.array_equal(curve[:, :, 0], curve[:, :, 2])  # coloured lines, not only grey


FREEZE_SCRIPT = """
import gc
from core.server import warmup
warmup.freeze_long_lived()
assert gc.get_freeze_count() == 0, "nothing is frozen before TensorFlow is in"
import tensorflow
warmup.freeze_long_lived()
frozen = gc.get_freeze_count()
warmup.freeze_long_lived()  # once per process
assert gc.get_freeze_count() == frozen > 100_000, frozen
print(frozen)
"""


def test_freezing_after_tensorflow_hides_its_objects_from_the_collector_and_exits_cleanly():
    # A process of its own: what is frozen stays frozen, and a bad teardown would show as its exit code.
    done = subprocess.run([sys.executable, "-c", FREEZE_SCRIPT], cwd=Path(__file__).resolve().parents[3],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) > 100_000


def test_the_warm_up_traces_the_explanations_of_the_model_after_loading_it(monkeypatch):
    import keras

    from core.analysis.explain import attribution

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    monkeypatch.setattr(warmup, "MODEL", warmup.Task("a tiny model", lambda: model))
    monkeypatch.setattr(warmup, "start", lambda: None)  # no real warm-up thread in this test
    warmup.MODEL.run()
    assert "ig" not in attribution._CACHE.get(model, {})
    warmup.trace_explanations()
    assert "ig" in attribution._CACHE[model]  # the gradients' function, traced: a first drawing only runs it
    order = [task.name for task in warmup.TASKS]
    assert order.index("the bundled model") < order.index("the bundled model's explanations") \
        < order.index("the home page's pictures")
