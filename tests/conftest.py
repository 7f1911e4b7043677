"""Shared test fixtures: quiet TensorFlow, the repo on sys.path, and the real-data paths."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"


@pytest.fixture
def mnist_dir(tmp_path, monkeypatch):
    """A DIGITLAB_DATA_DIR holding the real MNIST subset as `mnist.npz`; skips when absent."""
    if not SHARED_MNIST.is_file():
        pytest.skip(f"real MNIST not found at {SHARED_MNIST} (only CI and dev machines have it)")
    (tmp_path / "mnist.npz").symlink_to(SHARED_MNIST)
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path))
    return tmp_path
