"""The model layer: what a network is (`TrainSpec`, the `SETTINGS` table, the `OPTIMIZERS`
registry), building it (core.model.network, imports TensorFlow), the bundled model, a trained
`Run`, and model files: reading, writing and vetting them (core.model.files), and the sizes of an
uploaded config before Keras builds it (core.model.config_size).

Imports core.data and core.limits. Re-exported here: only what does not import TensorFlow; import
core.model.network and core.model.default_model directly.
"""

from core.model.optimizers import OPTIMIZERS
from core.model.run import Run
from core.model.settings import SETTINGS, SETTINGS_BY_KEY, Setting
from core.model.spec import PRESETS, NetworkSpec, SpecError, TrainSpec, validate_spec

__all__ = ["OPTIMIZERS", "Run", "SETTINGS", "SETTINGS_BY_KEY", "Setting", "PRESETS", "NetworkSpec", "SpecError",
           "TrainSpec", "validate_spec"]
