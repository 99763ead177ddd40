"""``manage.py serve`` (what ``make run`` ends with) runs Daphne and a worker, and stops both."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect
from websockets.typing import Origin

from consult.hosts import machine_hosts
from tests.conftest import REPO_ROOT, child_env, free_port


def _health(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own loopback server)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_serve_runs_daphne_and_a_worker_and_ctrl_c_stops_both(transactional_db: None) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status, body = 0, {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, body = _health(f"http://127.0.0.1:{port}/healthz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)

        assert status == 200, body
        assert body["checks"]["worker"]["ok"] is True
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)

    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert "deputy   / demo1234" in output


def _machine_address() -> str:
    """An address of this machine other than loopback (IPv4 first), else its host name."""
    hosts = machine_hosts()
    return next((host for host in hosts if host[0].isdigit()), next(iter(hosts), socket.gethostname()))


def _get(url: str, host_header: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host_header} if host_header else {})  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to this machine
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _websocket_handshake(url: str, origin: str) -> int:
    """101 when the handshake is accepted (the socket then closes: nobody signed in), else the refusal's status."""
    try:
        with ws_connect(url, origin=Origin(origin), open_timeout=10, proxy=None):
            return 101
    except InvalidStatus as refusal:
        return int(refusal.response.status_code)


@pytest.mark.slow
def test_serve_on_every_address_answers_this_machines_address_and_explains_a_refused_host(
    transactional_db: None,
) -> None:
    port = free_port()
    address = _machine_address()
    env = child_env()
    env.pop("ALLOWED_HOSTS", None)  # not set: serve allows the machine's own names and addresses
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--host", "0.0.0.0", "--port", str(port), "--no-worker"],  # noqa: S104
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://{address}:{port}"
    try:
        status = 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and status != 200:
            try:
                status = _get(f"{base}/accounts/login/")
            except OSError:
                time.sleep(0.5)
        refused = _get(f"http://127.0.0.1:{port}/accounts/login/", host_header="refused.example:8000")
        own_origin = _websocket_handshake(f"ws://{address}:{port}/ws/live/", base)
        foreign_origin = _websocket_handshake(f"ws://{address}:{port}/ws/live/", "http://refused.example")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)

    assert status == 200, output
    assert refused == 400
    assert (own_origin, foreign_origin) == (101, 403)
    assert address in output.split("ALLOWED_HOSTS):", 1)[1].splitlines()[0]  # serve says what it allows
    explained = [line for line in output.splitlines() if "refused.example" in line]
    assert len(explained) == 1, output
    assert "WARNING" in explained[0]
    assert "ALLOWED_HOSTS environment variable" in explained[0]
    assert "Traceback" not in output
