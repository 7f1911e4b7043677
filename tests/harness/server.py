"""Start and stop the Digit Lab Streamlit server, and find a usable Chromium.

Shared by the browser tests (tests/e2e/conftest.py) and bench/browser_drawings.py; no pytest here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository root (where app.py is)
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist-22k.npz"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
START_TIMEOUT = 60.0  # seconds for /_stcore/health to answer "ok"


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser_problem(try_install: bool = True) -> str | None:
    """None when Chromium and Playwright are usable; otherwise why not (a skip reason).

    When /usr/bin/chromium is missing and we are root with apt-get, try to install Debian's
    chromium package first (quietly, with a time limit). Never `playwright install`.
    """
    if not os.path.exists(CHROMIUM) and try_install and hasattr(os, "geteuid") \
            and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
        # A fresh container may have no package lists yet: update once if the first try fails.
        for command in (install, ["apt-get", "update", "-qq"], install):
            if os.path.exists(CHROMIUM):
                break
            try:
                subprocess.run(command, env=env, timeout=300, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
            except (OSError, subprocess.TimeoutExpired):
                break
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (install Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"playwright is not importable ({error}); pip install -r requirements-dev.txt"
    return None


def launch_browser(playwright, cpus: str | None = None):
    """Debian's Chromium, headless, through Playwright (sync or async: what `playwright` is).

    `cpus` ("0") pins the browser and every process it starts to those CPUs: Playwright starts the
    executable it is given with its own arguments, so that is a script that runs `taskset`.
    """
    executable = CHROMIUM
    if cpus is not None:
        executable = Path(tempfile.mkdtemp(prefix="chromium-on-")) / "chromium"
        executable.write_text(f'#!/bin/sh\nexec taskset -c {cpus} {CHROMIUM} "$@"\n')
        executable.chmod(0o755)
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


@dataclass
class Server:
    """A running `streamlit run app.py`: its base URL, process and log file."""

    url: str
    process: subprocess.Popen
    log_path: Path
    temp_dir: Path
    data_dir: Path | None = None
    _log_file: object = field(default=None, repr=False)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Terminate the server and its children (its own process group), then clean up."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def start_server(timeout: float = START_TIMEOUT, extra_env: dict | None = None, cpus: str | None = None,
                 app_dir: Path = ROOT) -> Server:
    """Start the app on a free port and wait until it is healthy; RuntimeError with the log if not.

    `cpus` ("0", "0-1") pins the server, and every process it starts, to those CPUs (`taskset -c`).
    `app_dir` is where `app.py` (and `.streamlit/`) are: another app for a comparison (bench.first_minute).

    DIGITLAB_DATA_DIR is a temp folder with `mnist.npz` -> ../shared/data/mnist/mnist-22k.npz when
    that file exists beside the repo; otherwise it is left as the environment has it, and MNIST is
    Keras' download or, offline, the sample that ships in data/ (the pages say which).
    """
    temp_dir = Path(tempfile.mkdtemp(prefix="digitlab-e2e-"))
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    data_dir = None
    if SHARED_MNIST.is_file():
        data_dir = temp_dir / "data"
        data_dir.mkdir()
        (data_dir / "mnist.npz").symlink_to(SHARED_MNIST)
        env["DIGITLAB_DATA_DIR"] = str(data_dir)
    env["DIGITLAB_HOME"] = str(temp_dir / "home")  # the server's labs: its own database, gone with it
    env.pop("DIGITLAB_DATABASE_URL", None)
    env.update(extra_env or {})
    port = free_port()
    log_path = temp_dir / "streamlit.log"
    log_file = open(log_path, "w")
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]  # taskset execs the server: the pid stays the server's
    process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                               start_new_session=True)  # own process group: stop() ends children too
    server = Server(f"http://localhost:{port}", process, log_path, temp_dir, data_dir, log_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{tail}")
        if _health_ok(server.url):
            return server
        time.sleep(0.25)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {timeout:.0f} s:\n{tail}")
