"""Persona fixtures and live servers shared by the whole suite.

Personas (docs/style.md): a deputy, a co-signing deputy, a CPPCC member, an expert of bureau A,
a handler of bureau B, a staff member, an administrator and an outsider (signed in, no role
in anything). ``daphne_server`` runs the real ASGI app under Daphne on a free port,
against the test database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from consult.models import Bureau, User
from consult.people.roles import Chamber, Role
from tests.factories import (
    PASSWORD,
    BureauFactory,
    DepartmentFactory,
    DeputyProfileFactory,
    ExpertProfileFactory,
    HandlerProfileFactory,
    UserFactory,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bureau_a(db: None) -> Bureau:
    bureau = BureauFactory(code="jw", name="市教委", full_name="海滨市教育委员会", topics=["学区划分", "课后服务"])
    DepartmentFactory(bureau=bureau, name="基础教育处")
    return bureau


@pytest.fixture
def bureau_b(db: None) -> Bureau:
    bureau = BureauFactory(code="jtw", name="市交通委", full_name="海滨市交通委员会", topics=["公交线路", "停车难"])
    DepartmentFactory(bureau=bureau, name="公共交通处")
    return bureau


@pytest.fixture
def deputy(db: None) -> User:
    return DeputyProfileFactory(user__username="deputy", user__full_name="王建国").user


@pytest.fixture
def cosigner(db: None) -> User:
    return DeputyProfileFactory(user__username="cosigner", user__full_name="张丽", delegation="西江区代表团").user


@pytest.fixture
def member(db: None) -> User:
    return DeputyProfileFactory(
        user__username="member", user__full_name="李雪梅", chamber=Chamber.CPPCC, delegation="", sector="医药卫生界"
    ).user


@pytest.fixture
def expert(bureau_a: Bureau) -> User:
    return ExpertProfileFactory(user__username="expert", user__full_name="陈志远", bureau=bureau_a).user


@pytest.fixture
def handler(bureau_b: Bureau) -> User:
    return HandlerProfileFactory(
        user__username="handler", user__full_name="刘芳", bureau=bureau_b, is_bureau_lead=True
    ).user


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(username="staff", full_name="赵敏", role=Role.STAFF)


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(username="admin", full_name="系统管理员", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db: None) -> User:
    """Signed in but holding no role in anything (a handler account with no bureau profile)."""
    return UserFactory(username="outsider", full_name="路人甲", role=Role.HANDLER)


@pytest.fixture
def password() -> str:
    return PASSWORD


# --- live servers -----------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str
    ws_url: str
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_children() -> str:
    """The URL of the database pytest-django made, for processes started by the tests."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url_for_children(), "PYTHONUNBUFFERED": "1"}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return {**env, **extra}  # what the caller asks for wins


def wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback server)
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The real ASGI application under Daphne, on a free loopback port, on the test database.

    Tests that use it must commit what the server should see (``transactional_db``).
    """
    port = free_port()
    log = open(Path(settings.VAR_DIR) / f"daphne-{port}.log", "wb")  # noqa: SIM115 (closed below)
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
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", process)
        yield LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process)
    finally:
        stop(process)
        log.close()


# --- signed-in WebSocket clients (cookies made in sync fixtures: the ORM must not run on the event loop) ---


@pytest.fixture
def deputy_cookie(daphne_server: LiveServer, deputy: User) -> str:
    from tests.sockets import session_cookie

    return session_cookie(deputy)


@pytest.fixture
def cosigner_cookie(daphne_server: LiveServer, cosigner: User) -> str:
    from tests.sockets import session_cookie

    return session_cookie(cosigner)


@pytest.fixture
def expert_cookie(daphne_server: LiveServer, expert: User) -> str:
    from tests.sockets import session_cookie

    return session_cookie(expert)


@pytest.fixture
def handler_cookie(daphne_server: LiveServer, handler: User) -> str:
    from tests.sockets import session_cookie

    return session_cookie(handler)


@pytest.fixture
def staff_cookie(daphne_server: LiveServer, staff: User) -> str:
    from tests.sockets import session_cookie

    return session_cookie(staff)
