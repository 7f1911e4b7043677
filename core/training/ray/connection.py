"""The app's connection to a Ray cluster: its address and working dir (DIGITLAB_RAY_ADDRESS,
DIGITLAB_RAY_WORKING_DIR), connecting once per process, calls with a timeout, and its errors in
plain words. Ray is imported only inside functions: the app imports this whatever runs its trainings.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from core.i18n import Message, Number, message

RAY_ADDRESS_ENV = "DIGITLAB_RAY_ADDRESS"
RAY_WORKING_DIR_ENV = "DIGITLAB_RAY_WORKING_DIR"  # a folder to ship to the workers as their code
RAY_CPUS_ENV = "DIGITLAB_RAY_CPUS"  # CPUs per training


CALL_TIMEOUT = 120.0  # seconds one actor call may take before the cluster counts as unreachable


WORKING_DIR_EXCLUDES = [".git", "tests", "docs", "bench", "**/__pycache__", "*.db", "*.sqlite", ".venv"]


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached; the message says what to do."""


def ray_address() -> str | None:
    """The cluster to train on (DIGITLAB_RAY_ADDRESS), or None: train in the app's own threads."""
    return os.environ.get(RAY_ADDRESS_ENV, "").strip() or None


def ray_runtime_env() -> dict | None:
    """The job's runtime_env: the app's folder shipped to the workers, if DIGITLAB_RAY_WORKING_DIR names it."""
    folder = os.environ.get(RAY_WORKING_DIR_ENV, "").strip()
    return {"working_dir": folder, "excludes": WORKING_DIR_EXCLUDES} if folder else None


_CONNECT_LOCK = threading.Lock()


def connect(address: str | None, runtime_env: dict | None = None) -> None:
    """Connect this process to the Ray cluster at `address`, once; RayUnavailable with a clear message.

    Already connected (or a local instance started, as the tests do): nothing to do. None is only
    that: without a connection it is RayUnavailable. `local` starts a Ray instance in this process.
    """
    try:
        import ray  # Ray is optional (requirements-ray.txt)
    except ImportError as error:
        raise RayUnavailable(message(
            "{setting} is set, but Ray is not installed here: pip install -r requirements-ray.txt, or unset it to "
            "train on this server.", setting=RAY_ADDRESS_ENV)) from error
    with _CONNECT_LOCK:
        if ray.is_initialized():
            return
        if address is None:
            raise RayUnavailable(message("This process is not connected to a Ray cluster: set {setting}.",
                                         setting=RAY_ADDRESS_ENV))
        try:
            run_in_lasting_thread(lambda: ray.init(
                address=address, ignore_reinit_error=True, log_to_driver=False,
                runtime_env=runtime_env if runtime_env is not None else ray_runtime_env()))
        except Exception as error:  # ConnectionError, a version mismatch, a bad token: all "cannot reach"
            raise RayUnavailable(message(
                "Could not connect to the Ray cluster at {address} ({setting}): {error}: {problem}",
                address=address, setting=RAY_ADDRESS_ENV, error=type(error).__name__, problem=first_line(error),
            )) from error


def run_in_lasting_thread(call: Callable[[], Any]) -> None:
    """call() in a thread that lives as long as this process; its exception is raised here.

    Why: `ray.init(address="local")` starts Ray's processes (its GCS, its raylet) with Linux's
    PR_SET_PDEATHSIG, which kills them when the *thread* that started them ends, not the process.
    Called from a training's thread (or a script run's), the local instance died with that thread
    and, 60 s later, Ray ended the whole app ("Failed to connect to GCS within 60 seconds").
    """
    done, outcome = threading.Event(), {}

    def host() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - handed to the caller; nothing to keep alive
            outcome["error"] = error
            return
        finally:
            done.set()
        threading.Event().wait()  # never set: Ray's processes live while this thread does

    threading.Thread(target=host, name="ray-host", daemon=True).start()
    done.wait()
    if "error" in outcome:
        raise outcome["error"]


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def explain_ray_error(error: BaseException) -> Message:
    """A failure of the cluster or the worker as the page says it (not Ray's traceback); Ray's own words stay."""
    cause = getattr(error, "cause", None) or error  # a RayTaskError carries the worker's exception
    text = str(error)
    if "No module named 'core'" in text or (isinstance(cause, ModuleNotFoundError) and cause.name == "core"):
        return message("The Ray workers do not have Digit Lab's code: install the app on them, or set {setting} to "
                       "the app's folder to ship it (see 'Beyond one machine').", setting=RAY_WORKING_DIR_ENV)
    try:
        from ray.exceptions import GetTimeoutError, RayActorError  # Ray is optional (requirements-ray.txt)
    except ImportError:  # pragma: no cover - only without Ray, where no RayTrainingJob runs
        GetTimeoutError = RayActorError = ()  # noqa: N806
    if isinstance(error, RayActorError):
        return message("The Ray worker running this training stopped (its node left the cluster, or it ran out of "
                       "memory): {problem}", problem=first_line(error))
    if isinstance(error, GetTimeoutError):
        return message("The Ray cluster stopped answering for {seconds} seconds; the training was abandoned.",
                       seconds=Number(CALL_TIMEOUT))
    return message("Training failed: {error}: {problem}", error=type(cause).__name__, problem=first_line(cause))


def get(ref: Any) -> Any:
    """ray.get with the module's timeout: a cluster that stops answering fails the job, never hangs it."""
    import ray  # Ray is optional (requirements-ray.txt)

    return ray.get(ref, timeout=CALL_TIMEOUT)


def kill(actor: Any) -> None:
    """End an actor and give its CPU back; an actor already gone is fine."""
    try:
        import ray  # Ray is optional (requirements-ray.txt)

        ray.kill(actor, no_restart=True)
    except Exception:
        pass


def ray_cpus() -> float:
    """CPUs each training asks of the cluster (DIGITLAB_RAY_CPUS, default 1): its TensorFlow threads too."""
    try:
        return max(1.0, float(os.environ.get(RAY_CPUS_ENV, "1")))
    except ValueError:
        return 1.0
