"""``manage.py serve`` (what ``make run`` ends with) runs Daphne and a worker, and stops both."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

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
