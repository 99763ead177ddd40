"""``manage.py serve`` (``make run``) through Redis restarts: the worker reconnects by itself, and a worker that
exits is started again (issue 11, item 9; docs/decisions/0011-redis-restarts.md).

Everything is real: ``serve`` runs Daphne and the Celery worker (with beat) on a redis-server of this test only,
which the test SIGKILLs and starts again on the same port; a task sent afterwards runs (the search outbox is
drained: its row goes away), and ``/healthz`` answers 200 again without anyone restarting anything. Loops poll
with generous deadlines; nothing asserts on time.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from search.models import PendingChange
from tests.chat.test_faults import OwnRedis, own_redis  # noqa: F401  (the fixture: a redis-server of our own)
from tests.conftest import REPO_ROOT, child_env, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEADLINE_S = 120.0  # a guard against hangs, not a measurement


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {DEADLINE_S:.0f} s guard: {what}")
        time.sleep(0.5)


class Serve:
    """``manage.py serve`` in the background, its output collected line by line."""

    def __init__(self, redis: OwnRedis, search_dir: Path) -> None:
        self.port = free_port()
        env = child_env(REDIS_URL=redis.url, SEARCH_INDEX_DIR=str(search_dir), ELASTICSEARCH_URL="")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=10) as response:
                return bool(json.loads(response.read())["status"] == "ok")
        except (urllib.error.URLError, OSError):
            return False

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"Celery worker started \(pid (\d+)\)", "".join(self.lines))]

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return "".join(self.lines)


@pytest.fixture
def serve(own_redis: OwnRedis, transactional_db: None) -> Iterator[Serve]:  # noqa: F811
    search_dir = Path(tempfile.mkdtemp(prefix="consult-search-"))
    running = Serve(own_redis, search_dir)
    try:
        yield running
    finally:
        print(running.stop()[-6000:])


def a_task_runs(redis: OwnRedis, object_id: int) -> None:
    """Queue a search change and send the drain task to the worker's broker: the row goes once it ran."""
    from celery.exceptions import AlwaysEagerIgnored

    from consult.celery import app

    PendingChange.objects.create(label="proposal", object_id=object_id, queued_at=timezone.now())
    with app.connection_for_write(redis.url) as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        app.send_task("search.tasks.drain_index", connection=connection)
    wait_for(lambda: not PendingChange.objects.filter(object_id=object_id).exists(), "the worker ran the drain")


def test_the_worker_outlives_two_redis_kills_and_serve_restarts_a_worker_that_exits(
    serve: Serve,
    own_redis: OwnRedis,  # noqa: F811
) -> None:
    wait_for(serve.healthy, "/healthz is 200 after start")
    a_task_runs(own_redis, 900_001)
    first_worker = serve.worker_pids()[0]

    # when Redis is killed and started again, twice, under the running worker
    for round_ in range(2):
        own_redis.kill()
        wait_for(lambda: not serve.healthy(), "/healthz reports the outage")
        own_redis.start()

        # then /healthz is 200 again by itself and the worker runs tasks: the same worker, never restarted
        wait_for(serve.healthy, f"/healthz is 200 again after restart {round_ + 1}")
        a_task_runs(own_redis, 900_010 + round_)
    assert serve.worker_pids() == [first_worker]

    # when the worker itself dies, serve starts another one and tasks run again
    subprocess.run(["kill", "-KILL", str(first_worker)], check=True)
    wait_for(lambda: len(serve.worker_pids()) == 2, "serve started a new worker")
    assert "the Celery worker exited (code -9); restart 1" in "".join(serve.lines)
    wait_for(serve.healthy, "/healthz is 200 with the new worker")
    a_task_runs(own_redis, 900_020)
    assert serve.process.poll() is None
