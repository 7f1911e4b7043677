"""A throwaway PostgreSQL server for the store's tests: `postgres_server` (one per session) and
`postgres_url` (a new empty database per test). A test module uses them by importing both names.

Skipped with the reason when PostgreSQL's binaries are missing or the server cannot start.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.harness.server import free_port


def postgres_bin_dir() -> str | None:
    """The folder of PostgreSQL's server programs (Debian's layout first), or None."""
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(f.split("/")[-2]))
    if folders and os.path.exists(f"{folders[-1]}/initdb"):
        return folders[-1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a throwaway PostgreSQL server's `postgres` database; stopped at the end."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (initdb) are not installed: apt-get install postgresql")
    folder = tempfile.mkdtemp(prefix="digitlab-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, f"{bin_dir}/{args[0]}", *args[1:]], capture_output=True, text=True,
                              timeout=120, check=False)

    data, port = f"{folder}/data", free_port()
    init = run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "--no-locale", "-E", "UTF8")
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = run("pg_ctl", "-D", data, "-l", f"{folder}/server.log", "-w", "-t", "60", "-o", options, "start")
    if start.returncode != 0:
        log = Path(folder, "server.log").read_text() if Path(folder, "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {(start.stderr + log).strip()[-300:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run("pg_ctl", "-D", data, "stop", "-m", "immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database on the throwaway server (one per test)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))  # a name we made: CREATE DATABASE takes no parameter
    admin.dispose()
    return postgres_server.rsplit("/", 1)[0] + "/" + name
