"""Train the bundled default MNIST CNN (models/default_mnist_cnn.keras).

Usage:
    python scripts/train_default_model.py PATH_TO_mnist.npz [--epochs N] [--out PATH]

The npz is Keras' mnist.npz format (x_train, y_train, x_test, y_test; uint8 images).
Augmentation (shift, rotation, zoom, stroke thickness) runs only in the tf.data
training pipeline; the saved file is a plain inference model (28, 28, 1) -> softmax(10)
without optimizer state, loadable with safe_mode=True.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "models" / "default_mnist_cnn.keras"

# Quieter TensorFlow start-up; must be set before the import.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def load_mnist_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a Keras-format mnist.npz and scale images to model input.

    Images: (N, 28, 28) uint8 -> (N, 28, 28, 1) float32 in 0..1.
    """
    with np.load(path) as data:
        x_train, y_train = data["x_train"], data["y_train"]
        x_test, y_test = data["x_test"], data["y_test"]
    to_input = lambda x: (x.astype("float32") / 255.0)[..., None]  # noqa: E731
    return to_input(x_train), y_train.astype("int64"), to_input(x_test), y_test.astype("int64")


def build_model(num_classes: int = 10) -> keras.Model:
    """Build the small inference CNN: (28, 28, 1) float32 0..1 -> softmax (num_classes,)."""
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = inputs
    for filters in (32, 64):
        # 'valid' convs keep the flattened size small: 28->26->24->12->10->8->4.
        x = keras.layers.Conv2D(filters, 3, use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.Conv2D(filters, 3, use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)  # (4 * 4 * 64,) = (1024,)
    x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    x = keras.layers.Dropout(0.4)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="default_mnist_cnn")


def build_augmenter(seed: int, rotation: float) -> keras.Sequential:
    """Random shifts, rotations (up to `rotation` degrees either way) and zooms, as people's drawings
    vary after centring: many write slanted or rotated by 20 degrees or more."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomZoom((-0.15, 0.15), fill_mode="constant", seed=seed + 1),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
        ],
        name="augmenter",
    )


def vary_thickness(images: tf.Tensor, seed: int) -> tf.Tensor:
    """Per image, one of: thinner (grey erosion 2x2), unchanged, bolder (dilation 2x2), much bolder
    (dilation 3x3), each a quarter of the batch.

    Canvas strokes have one fixed width while MNIST pens vary, and a digit drawn small is scaled
    up by the preprocessing, its stroke with it (a 22 px pen on a 50 px digit is 8 px of 28);
    this teaches the model to ignore stroke thickness. images: (B, 28, 28, 1) float32 in 0..1.
    (Blobs, 5x5 dilations, read small digits better but cost MNIST 0.2 points: not used.)
    """
    eroded = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    bolder = tf.nn.max_pool2d(images, 2, 1, "SAME")
    boldest = tf.nn.max_pool2d(images, 3, 1, "SAME")
    choice = tf.random.stateless_uniform(
        [tf.shape(images)[0], 1, 1, 1], seed=[seed, 0], maxval=4, dtype=tf.int32
    )
    return tf.where(choice == 0, eroded, tf.where(choice == 2, bolder, tf.where(choice == 3, boldest, images)))


def make_train_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, rotation: float
) -> tf.data.Dataset:
    """Shuffled, augmented training batches of (B, 28, 28, 1) float32 images and labels."""
    augmenter = build_augmenter(seed, rotation)
    counter = tf.data.Dataset.counter()

    def augment(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        images, labels = batch
        images = vary_thickness(images, seed=tf.cast(step, tf.int32) + seed)
        images = augmenter(images, training=True)
        return tf.clip_by_value(images, 0.0, 1.0), labels

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = tf.data.Dataset.zip((counter, ds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def split_validation(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random hold-out split: returns x_fit, y_fit, x_val, y_val."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, fit = order[:n_val], order[n_val:]
    return x[fit], y[fit], x[val], y[val]


def strip_for_inference(model: keras.Model) -> keras.Model:
    """Copy the weights into a fresh, uncompiled model so no optimizer state is saved."""
    clean = build_model(model.output_shape[-1])
    clean.set_weights(model.get_weights())
    return clean


def main() -> None:
    """Parse arguments, train, evaluate on the test set and save the inference model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("npz", help="path to a Keras-format mnist.npz")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--val-fraction", type=float, default=0.0, help="held out to watch; 0: all train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rotation", type=float, default=30.0, help="largest rotation, degrees either way")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x_train, y_train, x_test, y_test = load_mnist_npz(args.npz)
    x_fit, y_fit, x_val, y_val = split_validation(x_train, y_train, args.val_fraction, args.seed)
    print(f"train {len(x_fit)}  val {len(x_val)}  test {len(x_test)}")

    model = build_model(10)
    steps_per_epoch = int(np.ceil(len(x_fit) / args.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=2e-3, decay_steps=steps_per_epoch * args.epochs, alpha=0.02
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()

    started = time.perf_counter()
    model.fit(
        make_train_dataset(x_fit, y_fit, args.batch_size, args.seed, args.rotation),
        validation_data=(x_val, y_val) if len(x_val) else None,
        epochs=args.epochs,
        shuffle=False,  # the dataset already reshuffles each epoch
        verbose=2,
    )
    train_seconds = time.perf_counter() - started

    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    strip_for_inference(model).save(out)
    print(f"training time: {train_seconds:.0f} s")
    print(f"params: {model.count_params()}")
    print(f"saved: {out} ({out.stat().st_size / 1e6:.2f} MB)")
    print(f"test accuracy: {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
