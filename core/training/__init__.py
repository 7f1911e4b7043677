"""The training layer: jobs that train in the background and what they share.

- job: `BackgroundJob`, the `Job` protocol, `JobState`, `TrainingSink`, `ThinnedLog`.
- queue: the server's line for training slots (`TrainingSlots`, `SLOTS`, `QueueFull`).
- callbacks: the Keras callbacks (`LiveHistory`, `ValidationRecorder`).
- local: `TrainingJob`, a training in this process (imports TensorFlow); `run_of_job`.
- fine_tune: a model trained further on the visitor's digits (imports TensorFlow).
- sweeps: one setting over several values, a job each.
- launch: `make_job`, local or on Ray; ray/: connection, actor, capacity, job.
- memory: glibc's heaps for training threads.

Imports core.analysis, core.model, core.data. Re-exported here: only what does not import TensorFlow.
"""

from core.training.job import ENDED, BackgroundJob, Job, JobState, TrainingSink
from core.training.launch import make_job
from core.training.queue import SLOTS, QueueFull, TrainingSlots

__all__ = ["ENDED", "BackgroundJob", "Job", "JobState", "TrainingSink", "make_job", "SLOTS", "QueueFull",
           "TrainingSlots"]
