"""The search engine down while proposals change: users are unaffected, and the index catches up afterwards.

The embedded engine is made unusable for real, not mocked: its index directory is moved away and a plain
file put in its place (every open, read and write fails), or another process holds the index's writer
lock. The outbox (``PendingChange``) keeps every change meanwhile; once the engine is back, a drain (the
on-commit task, its retries, or the periodic sweep) indexes them and ``search_check`` finds the index clean.

The last test runs a real Celery worker on its own Redis: the worker's drain fails while the engine is down,
retries with backoff, and catches up by itself when the engine is back. Loops poll with generous deadlines;
nothing asserts on time.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import QueryDict
from pytest_django.fixtures import Settings

from consult.models import Bureau, User
from proposals import services
from proposals.models import Proposal, ProposalSession
from proposals.searching import search_proposals
from search import indexing
from search.backends import get_backend, reset_backend
from search.documents import SearchQuery, SearchUnavailable
from search.models import PendingChange
from search.tasks import sweep_index
from tests.conftest import REPO_ROOT, child_env, free_port, stop
from tests.proposals.conftest import content
from tests.required import skip_or_fail

DEADLINE_S = 120.0  # a guard against hangs, not a measurement
REDIS_SERVER = shutil.which("redis-server")


@dataclass
class Outage:
    """Takes the embedded engine's index directory away (a file in its place) and puts it back."""

    directory: Path

    def begin(self) -> None:
        self.directory.rename(self.directory.with_name("search.away"))
        self.directory.write_text("the index directory is gone\n")

    def end(self) -> None:
        self.directory.unlink()
        self.directory.with_name("search.away").rename(self.directory)


@pytest.fixture
def outage(search_dir: Path) -> Iterator[Outage]:
    """The engine in use (its index exists), then an outage the test begins and ends."""
    assert get_backend().versions("proposal") == {}  # opens the live index, creating it
    down = Outage(search_dir)
    try:
        yield down
    finally:
        if search_dir.is_file():
            down.end()


def found(text: str) -> set[int]:
    query = SearchQuery(doc_type="proposal", text=text, acl=["office"], limit=100)
    return {hit.object_id for hit in get_backend().search(query).hits}


def check_output() -> str:
    out = StringIO()
    call_command("search_check", stdout=out)
    return out.getvalue()


def wait_for(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within the {deadline_s:.0f} s guard: {what}")
        time.sleep(0.2)


# --- in this process ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_proposals_change_normally_while_the_engine_is_down_and_the_outbox_keeps_the_changes(
    outage: Outage, settings: Settings, deputy: User, staff: User, draft: Proposal, npc_session: ProposalSession
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # each commit tries to index right away, and fails
    outage.begin()
    assert not get_backend().health().ok

    # when the deputy submits, the office registers and the deputy writes another draft
    services.submit(actor=deputy, proposal_id=draft.pk)
    services.register(actor=staff, proposal_id=draft.pk)
    other = services.create_draft(actor=deputy, content=content(title="关于增设公交候车亭的建议"))

    # then every call succeeded and the database has it all
    assert Proposal.objects.get(pk=draft.pk).status == "registered"
    assert Proposal.objects.filter(pk=other.pk).exists()
    # and the outbox holds both proposals, with the failed attempts counted
    rows = {row.object_id: row.attempts for row in PendingChange.objects.all()}
    assert rows.keys() == {draft.pk, other.pk}
    assert all(attempts >= 1 for attempts in rows.values())


@pytest.mark.django_db
def test_a_drain_while_the_engine_is_down_fails_and_keeps_every_row(
    outage: Outage, deputy: User, draft: Proposal
) -> None:
    services.submit(actor=deputy, proposal_id=draft.pk)
    outage.begin()

    with pytest.raises(SearchUnavailable):
        indexing.drain()

    assert list(PendingChange.objects.values_list("object_id", "attempts")) == [(draft.pk, 1)]
    with pytest.raises(SearchUnavailable):
        indexing.drain()
    assert PendingChange.objects.get().attempts == 2


@pytest.mark.django_db
def test_the_sweep_reports_nothing_done_while_down_and_catches_up_when_back(
    outage: Outage, deputy: User, staff: User, draft: Proposal
) -> None:
    services.submit(actor=deputy, proposal_id=draft.pk)
    services.register(actor=staff, proposal_id=draft.pk)
    outage.begin()

    assert sweep_index() == 0
    assert PendingChange.objects.count() == 1

    outage.end()

    assert sweep_index() == 1
    assert PendingChange.objects.count() == 0
    assert found("区间车") == {draft.pk}


@pytest.mark.django_db
def test_search_still_answers_from_the_database_while_the_engine_is_down(
    outage: Outage, deputy: User, staff: User, draft: Proposal
) -> None:
    services.submit(actor=deputy, proposal_id=draft.pk)
    outage.begin()

    result = search_proposals(staff, QueryDict("q=区间车"))

    assert result.degraded
    assert [hit.proposal.pk for hit in result.hits] == [draft.pk]


@pytest.mark.django_db(transaction=True)
def test_after_the_outage_the_index_catches_up_and_check_is_clean(
    outage: Outage, settings: Settings, deputy: User, staff: User, draft: Proposal, npc_session: ProposalSession
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    outage.begin()
    services.submit(actor=deputy, proposal_id=draft.pk)
    services.register(actor=staff, proposal_id=draft.pk)
    other = services.create_draft(actor=deputy, content=content(title="关于增设公交候车亭的建议"))
    services.submit(actor=deputy, proposal_id=other.pk)

    outage.end()
    applied = indexing.drain()

    assert applied == 2
    assert PendingChange.objects.count() == 0
    assert found("候车亭") == {other.pk}
    assert "proposal: 2 in the database, 2 in the index; missing 0, stale 0, extra 0 — clean" in check_output()


@pytest.mark.django_db
def test_a_proposal_indexed_before_the_outage_is_current_after_it(
    outage: Outage, deputy: User, staff: User, draft: Proposal
) -> None:
    services.submit(actor=deputy, proposal_id=draft.pk)
    indexing.drain()
    outage.begin()
    services.register(actor=staff, proposal_id=draft.pk)

    outage.end()
    indexing.drain()

    assert indexing.check("proposal").clean
    assert get_backend().search(SearchQuery(doc_type="proposal", filters={"status": ["submitted"]})).total == 0


# --- the writer lock held by another process ---------------------------------------------------------------

HOLD_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from search.engines.tantivy_engine import TantivyBackend

    backend = TantivyBackend(Path(sys.argv[1]))
    writer = backend._index("proposal").writer(heap_size=15_000_000, num_threads=1)
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes our stdin
    """
)


@pytest.fixture
def writer_held_elsewhere(outage: Outage, search_dir: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(search_dir)],
        cwd=REPO_ROOT,
        env=child_env(DJANGO_SETTINGS_MODULE="consult.settings"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "holding"
        yield process
    finally:
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db
def test_indexing_waits_for_a_writer_held_elsewhere_then_fails_keeping_the_change(
    writer_held_elsewhere: subprocess.Popen[str], deputy: User, draft: Proposal
) -> None:
    services.submit(actor=deputy, proposal_id=draft.pk)

    with pytest.raises(SearchUnavailable, match="busy"):
        indexing.drain()
    assert PendingChange.objects.get().attempts == 1

    assert writer_held_elsewhere.stdin is not None
    writer_held_elsewhere.stdin.close()  # the other process lets go
    writer_held_elsewhere.wait(timeout=30)

    assert indexing.drain() == 1
    assert indexing.check("proposal").clean


# --- a real Celery worker --------------------------------------------------------------------------------


@dataclass
class OwnRedis:
    """A redis-server of this test only: the worker's broker, so no other run's tasks are touched."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        skip_or_fail("redis-server is not installed; this test runs a Celery worker on its own Redis")
    port = free_port()
    process = subprocess.Popen(
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), "redis-server answers", 30)
        yield OwnRedis(port, process)
    finally:
        stop(process)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def worker(transactional_db: None, own_redis: OwnRedis, search_dir: Path, tmp_path: Path) -> Iterator[OwnRedis]:
    """``celery -A consult worker`` (as ``manage.py serve`` starts it) on the test database and index directory."""
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "consult",
            "worker",
            "--pool",
            "solo",
            "-l",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO_ROOT,
        env=child_env(REDIS_URL=own_redis.url, SEARCH_INDEX_DIR=str(search_dir), ELASTICSEARCH_URL=""),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield own_redis
    finally:
        stop(process)
        log.close()
        print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


def send_drain(broker_url: str) -> None:
    """What ``schedule_drain`` does after a commit, sent to the worker's broker."""
    from celery.exceptions import AlwaysEagerIgnored

    from consult.celery import app

    with app.connection_for_write(broker_url) as connection, warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)  # this process drains eagerly; the worker does not
        app.send_task("search.tasks.drain_index", connection=connection)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_retries_while_the_engine_is_down_and_catches_up_when_it_is_back(
    outage: Outage,
    worker: OwnRedis,
    settings: Settings,
    deputy: User,
    staff: User,
    bureau_b: Bureau,
    draft: Proposal,
    npc_session: ProposalSession,
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True  # this process's own on-commit drain fails too (engine down)
    outage.begin()
    services.submit(actor=deputy, proposal_id=draft.pk)
    services.register(actor=staff, proposal_id=draft.pk)
    services.assign(actor=staff, proposal_id=draft.pk, lead=bureau_b.pk)
    other = services.create_draft(actor=deputy, content=content(title="关于增设公交候车亭的建议"))
    services.submit(actor=deputy, proposal_id=other.pk)
    attempts_here = PendingChange.objects.get(object_id=draft.pk).attempts

    # when the worker is asked to drain while the engine is down
    send_drain(worker.url)

    # then its drain fails and is retried, keeping the outbox
    wait_for(
        lambda: PendingChange.objects.get(object_id=draft.pk).attempts > attempts_here,
        "the worker tried to drain while the engine was down",
    )
    assert PendingChange.objects.count() == 2

    # when the engine is back, a retry indexes everything without anyone asking again
    outage.end()
    wait_for(lambda: not PendingChange.objects.exists(), "the worker drained the outbox after the outage")

    # then this process (another reader of the same index) finds the changes, and the check is clean
    reset_backend()
    wait_for(lambda: found("候车亭") == {other.pk}, "this process sees what the worker indexed")
    assert found("公交") == {draft.pk, other.pk}
    assert "proposal: 2 in the database, 2 in the index; missing 0, stale 0, extra 0 — clean" in check_output()
