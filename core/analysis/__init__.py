"""The analysis layer: what a trained model does with data. Evaluation (core.analysis.evaluation),
the learning history per epoch (core.analysis.history), and explanations (core.analysis.explain).

Imports core.model and core.data. TensorFlow only inside functions.
"""

from core.analysis.evaluation import EvaluationResult, predict_probabilities, summarize_predictions
from core.analysis.history import EpochRecord

__all__ = ["EvaluationResult", "predict_probabilities", "summarize_predictions", "EpochRecord"]
