"""The data layer: the dataset registry and its readers, drawings turned into model inputs, and the
visitor's own digits. Imports only core.limits, and TensorFlow only inside functions (the home page
imports this package).

A new dataset is one entry of `DATASETS` (core.data.datasets).
"""

from core.data.datasets import DATASETS, DatasetInfo, DatasetUnavailable, DataSource, get_info, load_dataset
from core.data.drawing import predict_drawing, preprocess_drawing
from core.data.handwriting import DigitsFileError, keep_drawing, to_model_images

__all__ = ["DATASETS", "DatasetInfo", "DatasetUnavailable", "DataSource", "get_info", "load_dataset",
           "preprocess_drawing", "predict_drawing", "DigitsFileError", "keep_drawing", "to_model_images"]
