"""``GET /healthz``: the state of every part the platform needs.

200 when all are up, 503 when any is down. The body never carries URLs or secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from search.backends import get_backend


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    ms: float = 0.0


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return CheckResult(False, f"{connection.vendor}: {type(exc).__name__}")
    return CheckResult(True, connection.vendor)


def check_redis() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult(True, "no Redis: in-memory channel layer, tasks run inline")
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return CheckResult(False, f"{settings.REDIS_KIND}: {type(exc).__name__}")
    return CheckResult(True, f"{settings.REDIS_KIND} Redis")


def check_search() -> CheckResult:
    backend = get_backend()
    health = backend.health()
    return CheckResult(health.ok, f"{backend.name}: {health.detail}")


def check_worker() -> CheckResult:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult(True, "tasks run inline (no broker)")
    from consult.celery import app

    try:
        replies = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT, limit=1)
    except Exception as exc:
        return CheckResult(False, f"broker unreachable: {type(exc).__name__}")
    if not replies:
        return CheckResult(False, "no Celery worker answered")
    return CheckResult(True, "a worker answered")


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "redis": check_redis,
    "search": check_search,
    "worker": check_worker,
}


def _timed(check: Callable[[], CheckResult]) -> CheckResult:
    started = time.perf_counter()
    result = check()
    return CheckResult(result.ok, result.detail, round((time.perf_counter() - started) * 1000, 1))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = {name: _timed(check) for name, check in CHECKS.items()}
    healthy = all(result.ok for result in results.values())
    body = {"status": "ok" if healthy else "down", "checks": {name: asdict(r) for name, r in results.items()}}
    return JsonResponse(body, status=200 if healthy else 503)
