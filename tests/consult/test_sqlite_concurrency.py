"""The embedded default (SQLite under ``manage.py serve``) never fails a write under concurrent API clients.

Runs the stack exactly as ``make run`` does — migrate, seed_demo, then ``serve`` (Daphne and the Celery
worker with beat) on the embedded SQLite file and embedded Redis of a fresh var dir — and fires a few
hundred API writes from several threads at once, each signed in with its own session: drafts created,
then changed. Before WAL, a busy timeout and immediate write transactions (``consult/settings.py``),
such a load got a handful of HTTP 500 "database is locked". Whatever the timing, every write must be
answered 2xx and be stored.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, free_port

THREADS = 12
DRAFTS_PER_THREAD = 30  # each draft is two writes: POST, then PATCH — 720 writes in all
LOGINS = ("deputy", "member")
DEMO_PASSWORD = "demo1234"  # the public demo password of seed_demo


def embedded_env(var_dir: Path) -> dict[str, str]:
    """The environment of ``make run`` on a fresh machine: no DATABASE_URL, no REDIS_URL, own var dir."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}}
    env.update(CONSULT_VAR_DIR=str(var_dir), CHANNEL_LAYER_PREFIX=f"consult-load-{os.getpid()}", PYTHONUNBUFFERED="1")
    return env


class ApiClient:
    """One browser-like session: the login form, then JSON with the CSRF header."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken") or ""

    def login(self, username: str) -> None:
        self.opener.open(f"{self.base}/accounts/login/", timeout=60).read()
        form = urllib.parse.urlencode(
            {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": self.csrf()}
        ).encode()
        login_url = f"{self.base}/accounts/login/"
        request = urllib.request.Request(login_url, data=form, headers={"Referer": self.base})  # noqa: S310
        with self.opener.open(request, timeout=60) as response:
            assert response.url.rstrip("/") == self.base, f"login as {username} failed"

    def send(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(  # noqa: S310 (our own loopback server)
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf(), "Referer": self.base},
        )
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, {"raw": raw[:300].decode(errors="replace")}


def write_drafts(client: ApiClient, worker: int, results: list[tuple[str, int, Any]]) -> None:
    for n in range(DRAFTS_PER_THREAD):
        title = f"load-{worker}-{n}"
        status, body = client.send(
            "POST", "/api/proposals/", {"title": title, "body": "并发写入测试。", "category": "城市建设"}
        )
        results.append((f"create {title}", status, body if status >= 300 else None))
        if status == 201:
            status, body = client.send("PATCH", f"/api/proposals/{body['id']}/", {"body": f"已修改 {title}"})
            results.append((f"patch {title}", status, body if status >= 300 else None))


def wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited early"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310 (own loopback server)
                if json.loads(response.read())["checks"]["worker"]["ok"]:
                    return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError("serve did not become healthy")


@pytest.mark.slow
def test_embedded_sqlite_stack_stores_every_concurrent_api_write(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        done = subprocess.run([*manage, *command], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    database = tmp_path / "consult.sqlite3"
    assert database.exists()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*manage, "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    results: list[tuple[str, int, Any]] = []
    try:
        wait_healthy(base, process)
        clients = []
        for worker in range(THREADS):
            client = ApiClient(base)
            client.login(LOGINS[worker % len(LOGINS)])
            clients.append(client)
        threads = [
            threading.Thread(target=write_drafts, args=(client, worker, results))
            for worker, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    statuses = Counter(status for _, status, _ in results)
    failures = [result for result in results if result[1] >= 300]
    server_log = log_path.read_text(errors="replace")
    locked = server_log.count("database is locked")
    print(f"{len(results)} writes: {dict(statuses)}; 'database is locked' in the server log: {locked}")
    assert statuses[500] == 0, failures[:5]
    assert failures == []
    assert len(results) == THREADS * DRAFTS_PER_THREAD * 2
    assert "database is locked" not in server_log

    with sqlite3.connect(database) as db:
        stored = dict(db.execute("SELECT title, body FROM proposals_proposal WHERE title LIKE 'load-%'").fetchall())
    expected = {f"load-{w}-{n}" for w in range(THREADS) for n in range(DRAFTS_PER_THREAD)}
    assert set(stored) == expected
    assert all(stored[title] == f"已修改 {title}" for title in expected)
