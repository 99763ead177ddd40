"""A real Janus for the call tests (free ports, a configuration of its own), and a Daphne that uses it.

Janus is the Debian package ``janus``; where it is missing the tests skip, and under ``CI=true`` they fail
(``tests.required``). Import the fixtures into a test module: ``from tests.janus_support import janus, call_server``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from consult.embedded_janus import command, janus_binary, pp_rec_binary, write_config
from tests.conftest import REPO_ROOT, LiveServer, child_env, free_port, stop, wait_until_serving
from tests.required import skip_or_fail


@dataclass(frozen=True)
class JanusServer:
    url: str
    secret: str
    folder: Path
    process: subprocess.Popen[bytes]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"janus exited early with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"janus did not listen on {port} within {timeout}s")


def start_janus(folder: Path, secret: str = "test-janus-secret") -> JanusServer:  # noqa: S107 (a test server)
    binary = janus_binary()
    if binary is None or pp_rec_binary() is None:
        skip_or_fail("Janus is not installed (Debian: apt-get install janus janus-tools)")
        raise AssertionError("unreachable")
    port = free_port()
    rtp = free_port()  # a small RTP range near a free port: tests running side by side do not collide
    write_config(folder, ws_port=port, secret=secret, rtp_ports=f"{rtp}-{min(rtp + 200, 65535)}")
    process = subprocess.Popen(command(binary, folder), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
    except Exception:
        stop(process)
        raise
    return JanusServer(f"ws://127.0.0.1:{port}", secret, folder, process)


@pytest.fixture(scope="module")
def janus() -> Iterator[JanusServer]:
    folder = Path(tempfile.mkdtemp(prefix="janus-", dir=settings.VAR_DIR))  # kept with the run's logs: janus.log
    server = start_janus(folder)
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(scope="module")
def call_server(
    janus: JanusServer, django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    """Daphne on the test database whose calls use ``janus`` and record under this process's MEDIA_ROOT."""
    port = free_port()
    log = open(Path(settings.VAR_DIR) / f"daphne-calls-{port}.log", "wb")  # noqa: SIM115 (closed below)
    env = child_env(JANUS_URLS=janus.url, JANUS_API_SECRET=janus.secret, MEDIA_ROOT=str(settings.MEDIA_ROOT))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "consult.realtime.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "consult.asgi:application",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process, timeout=60)
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
    finally:
        stop(process)
        log.close()


def wait_for_idle_database(timeout_s: float = 30.0) -> None:
    """Until no other connection to the test database is inside a statement or a transaction: the server's
    socket handlers finish their work before the test's teardown empties the tables (else the two deadlock)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time, no deadlock to wait out
    deadline, quiet = time.monotonic() + timeout_s, 0
    while time.monotonic() < deadline and quiet < 5:  # idle five times in a row, 0.1 s apart
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IS NOT NULL AND state <> 'idle'"
            )
            row = cursor.fetchone()
        quiet = quiet + 1 if row is not None and row[0] == 0 else 0
        time.sleep(0.1)
