"""/healthz reports every part the platform needs, and fails loudly when one is down."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from search.backends import get_backend
from tests.conftest import REPO_ROOT, child_env, stop


@pytest.fixture
def celery_worker_process(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on the test Redis, as ``make run`` starts one."""
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "consult", "worker", "-l", "WARNING", "--pool", "solo"],
        cwd=REPO_ROOT,
        env=child_env(),
    )
    yield process
    stop(process)


def test_health_reports_worker_down_when_no_worker_runs(client: Client, db: None) -> None:
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "down"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["search"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["detail"] == "no Celery worker answered"


def test_health_is_ok_when_a_worker_answers(client: Client, celery_worker_process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        response = client.get("/healthz")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["worker"]["ok"] is True


def test_health_reports_search_engine_down(client: Client, db: None, settings: SettingsWrapper) -> None:
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    get_backend.cache_clear()
    try:
        response = client.get("/healthz")
    finally:
        get_backend.cache_clear()

    assert response.status_code == 503
    assert response.json()["checks"]["search"]["ok"] is False
    assert response.json()["checks"]["search"]["detail"].startswith("elasticsearch: unreachable")


def test_health_reports_redis_down(client: Client, db: None, settings: SettingsWrapper) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:9/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


def test_health_needs_no_login_and_carries_no_urls(client: Client, db: None) -> None:
    response = client.get("/healthz")

    assert "redis://" not in response.content.decode()
    assert "postgres://" not in response.content.decode()
