"""Why did the network say that? Integrated gradients (attribution), the sentence that reads them
(sentence), and a look inside the network (inside). Compute here, draw in core.figures.explain.
Keras / TensorFlow are imported inside the functions that need them.
"""

from core.analysis.explain.attribution import Explanation, class_scores, explain, integrated_gradients
from core.analysis.explain.inside import feature_maps, first_conv_filters, first_layer_weights
from core.analysis.explain.sentence import describe_attributions

__all__ = ["Explanation", "class_scores", "explain", "integrated_gradients", "describe_attributions",
           "feature_maps", "first_conv_filters", "first_layer_weights"]
