"""The API contract, tried by a property-based client: schemathesis against ``/api/schema/``.

For every role (anonymous, deputy, CPPCC member, expert, handler, office staff, admin) and every operation
of the schema, schemathesis generates requests (valid and invalid) and checks each answer: no server error,
a status code the schema documents, the documented content type, and a body that matches the documented
schema. The run is bounded (``CONTRACT_EXAMPLES`` examples per operation and role, derandomised, no
shrinking) so it stays part of ``make test``.

The data is the demo city (people, calendar, proposals in every state, past consultations) plus a few live
objects made through the services, so that ids in paths hit real objects in actionable states. The city is
seeded once per module inside a transaction; each role's run is rolled back to it.

The main run uses the suite's database (PostgreSQL under CI); ``test_contract_holds_on_sqlite`` repeats a
smaller run in a child process on SQLite, the embedded default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.city import City, build_city

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "12"))
ROLES = ("anonymous", "deputy", "member", "expert", "handler", "staff", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Never fuzzed: the schema and its documentation page describe the API rather than being part of it.
SKIPPED_PATHS = {"/api/schema/", "/api/docs/"}


@dataclass
class RoleReport:
    role: str
    operations: int = 0
    requests: int = 0
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def city(django_db_setup: None, django_db_blocker: Any) -> Iterator[City]:
    """The demo city, seeded once for the module and rolled back at its end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_city()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def api_schema(city: City) -> Iterator[Any]:
    """The schema as the app serves it, bound to the app in this process (the test's transaction sees it all).

    As Django's test client does, requests do not close the database connection when they finish: that
    would end the transaction the city lives in.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with override_settings(API_DOCS_PUBLIC=True):  # signed out, the schema is 401 (consult.api.docs)
            loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
        yield loaded
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def run_operation(
    operation: Any, headers: dict[str, str], cookies: dict[str, str], known: dict[str, list[Any]], report: RoleReport
) -> None:
    """Up to ``EXAMPLES`` generated requests; the first failure is recorded, not shrunk."""
    candidates = known_path_parameters(operation.path, known)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases_of(operation), pick=st.integers(min_value=0, max_value=max(len(candidates), 1) * 2))
    def check(case: Any, pick: int) -> None:
        if pick < len(candidates):  # two times in three, an id that exists
            case.path_parameters = {**(case.path_parameters or {}), **candidates[pick]}
        report.requests += 1
        case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # every failure is collected and reported together
        report.failures[operation.label] = str(exc)[:3000]


def cases_of(operation: Any) -> Any:
    """Valid requests and, as often, invalid ones (wrong types, missing fields, out-of-range values)."""
    return st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )


def known_path_parameters(path: str, known: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Path parameters that name existing objects, for the path's resource."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if not names:
        return []
    resource = path.split("/")[2]
    pools = [known.get(f"{resource}.{name}") or known.get(name) or [] for name in names]
    if not all(pools):
        return []
    return [
        {name: pool[i % len(pool)] for name, pool in zip(names, pools, strict=True)}
        for i in range(max(map(len, pools)))
    ]


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_contract_holds_for_every_operation(role: str, city: City, api_schema: Any, db: None) -> None:
    """Given the demo city, when schemathesis tries every operation as ``role``, then nothing breaks the contract."""
    headers, cookies = city.credentials(role)
    report = RoleReport(role)
    started = time.monotonic()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED_PATHS:
            continue
        report.operations += 1
        with transaction.atomic():  # each operation starts from the same city
            run_operation(operation, headers, cookies, city.known, report)
            transaction.set_rollback(True)
    elapsed = time.monotonic() - started
    print(
        f"\ncontract[{role}] on {connection.vendor}: {report.operations} operations, {report.requests} requests, "
        f"{len(report.failures)} failing operations, {elapsed:.1f}s"
    )
    assert not report.failures, "\n\n".join(f"== {label}\n{text}" for label, text in report.failures.items())


@pytest.mark.slow
def test_contract_holds_on_sqlite(tmp_path: Path) -> None:
    """The embedded default (SQLite) keeps the same contract: a smaller run of the same test in a child process."""
    if connection.vendor == "sqlite" or os.environ.get("CONTRACT_CHILD"):
        pytest.skip("this run is already on SQLite")
    env = {key: value for key, value in os.environ.items() if key not in {"CONSULT_VAR_DIR", "CI"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'contract.sqlite3'}",
        CONSULT_VAR_DIR=str(tmp_path / "var"),
        CONTRACT_CHILD="1",
        CONTRACT_EXAMPLES=os.environ.get("CONTRACT_SQLITE_EXAMPLES", "3"),
    )
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-s",
            f"{__file__}::test_contract_holds_for_every_operation",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(child.stdout[-3000:])
    assert child.returncode == 0, child.stdout[-20000:] + child.stderr[-5000:]
