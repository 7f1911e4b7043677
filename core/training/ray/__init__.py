"""Trainings on a Ray cluster (DIGITLAB_RAY_ADDRESS): the connection, the actor that runs a local
TrainingJob on a worker, the cluster's capacity as the app sees it, and `RayTrainingJob`, which the
app polls. Neither Ray nor TensorFlow is imported at import time.
"""

from core.training.ray.connection import RayUnavailable, ray_address
from core.training.ray.job import RayTrainingJob

__all__ = ["RayUnavailable", "ray_address", "RayTrainingJob"]
