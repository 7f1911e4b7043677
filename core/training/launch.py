"""One way to start a training wherever trainings run: `make_job` gives a local TrainingJob, or a
RayTrainingJob when DIGITLAB_RAY_ADDRESS is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.model.spec import TrainSpec
from core.training.ray.connection import ray_address, ray_cpus
from core.training.ray.job import RayTrainingJob

if TYPE_CHECKING:
    from core.training.local import TrainingJob


def make_job(spec: TrainSpec, **kwargs: Any) -> TrainingJob | RayTrainingJob:
    """A training job, not started: on the Ray cluster when DIGITLAB_RAY_ADDRESS is set, else in this process.

    `kwargs` are TrainingJob's (is_alive, sink, name, slots); a Ray job ignores `slots`.
    """
    address = ray_address()
    if address is None:
        from core.training.local import TrainingJob  # imports TensorFlow (light path: see core.training)

        return TrainingJob(spec, **kwargs)
    return RayTrainingJob(spec, address=address, num_cpus=ray_cpus(), **kwargs)
