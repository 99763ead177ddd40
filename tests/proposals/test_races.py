"""Concurrent actions on PostgreSQL: the row locks of the services keep the proposal consistent.

Each race runs two threads that wait on a barrier and then call a service at the same moment, each on its
own database connection (committed data: ``transactional_db``), and closes that connection at the end.
A race is repeated a few times so that different interleavings are likely; the assertions hold for every
interleaving, none depends on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

from consult.kernel.exceptions import DomainError, InvalidInput, InvalidTransition, NotFound
from consult.models import Bureau, User
from consult.people.roles import Role
from proposals import services
from proposals.models import Assignment, AssignmentStatus, Proposal, ProposalSession, Reply, ReplyStatus, Status
from proposals.services._common import lock
from tests.factories import UserFactory
from tests.proposals.conftest import content, lead_of
from tests.required import require_postgresql

ROUNDS = 5


@pytest.fixture(autouse=True)
def _postgresql(transactional_db: None) -> None:
    require_postgresql("a race (SELECT ... FOR UPDATE)")


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def at_once(*calls: Callable[[], Any]) -> list[Outcome]:
    """Run ``calls`` in threads released together by a barrier; what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(call: Callable[[], Any], outcome: Outcome) -> None:
        try:
            connection.ensure_connection()  # connect before the barrier, so the calls really start together
            barrier.wait()
            outcome.value = call()
        except BaseException as error:  # reported to the test, which decides
            outcome.error = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(call, outcome)) for call, outcome in zip(calls, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def failures(outcomes: list[Outcome]) -> list[BaseException]:
    return [outcome.error for outcome in outcomes if outcome.error is not None]


@pytest.fixture
def second_staff(db: None) -> User:
    return UserFactory(username="staff-2", full_name="钱进", role=Role.STAFF)


def registered_proposal(deputy: User, staff: User, title: str) -> Proposal:
    proposal = services.create_draft(actor=deputy, content=content(title=title))
    services.submit(actor=deputy, proposal_id=proposal.pk)
    return services.register(actor=staff, proposal_id=proposal.pk)


def test_two_staff_assigning_the_same_proposal_at_once_give_it_exactly_one_lead(
    deputy: User,
    staff: User,
    second_staff: User,
    npc_session: ProposalSession,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    for round_ in range(ROUNDS):
        proposal = registered_proposal(deputy, staff, f"同时交办的建议{round_}")

        outcomes = at_once(
            lambda p=proposal: services.assign(actor=staff, proposal_id=p.pk, lead=bureau_b.pk),
            lambda p=proposal: services.assign(actor=second_staff, proposal_id=p.pk, lead=bureau_c.pk),
        )

        [error] = failures(outcomes)  # exactly one of the two succeeded
        assert isinstance(error, InvalidInput | InvalidTransition), repr(error)
        if isinstance(error, InvalidInput):
            assert error.code == "already_assigned"
        leads = Assignment.objects.filter(
            proposal=proposal, role="lead", status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]
        )
        assert leads.count() == 1
        proposal.refresh_from_db()
        assert proposal.status == Status.ASSIGNED
        assert proposal.events.filter(action="assign").count() == 1
        assert proposal.reply_due == leads.get().reply_due


def test_a_reply_submitted_while_the_office_withdraws_the_assignment_leaves_one_consistent_story(
    deputy: User, staff: User, handler: User, npc_session: ProposalSession, bureau_b: Bureau
) -> None:
    for round_ in range(ROUNDS):
        proposal = registered_proposal(deputy, staff, f"答复与撤回同时的建议{round_}")
        services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk)
        lead = lead_of(proposal)
        services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
        services.draft_reply(
            actor=handler,
            proposal_id=proposal.pk,
            assignment_id=lead.pk,
            outcome_class="A",
            body="已增开区间车。",
            contact_person="刘芳",
            contact_phone="13800138001",
        )

        submitted, withdrawn = at_once(
            lambda p=proposal, a=lead: services.submit_reply(actor=handler, proposal_id=p.pk, assignment_id=a.pk),
            lambda p=proposal, a=lead: services.withdraw_assignment(
                actor=staff, proposal_id=p.pk, assignment_id=a.pk, reason="改由他委主办"
            ),
        )

        for error in failures([submitted, withdrawn]):
            assert isinstance(error, InvalidTransition | NotFound), repr(error)
        assert submitted.error is None or withdrawn.error is None  # one of them always goes through
        proposal.refresh_from_db()
        lead.refresh_from_db()
        under_review = Reply.objects.filter(proposal=proposal, status__in=[ReplyStatus.SIGNOFF, ReplyStatus.REVIEW])
        if lead.status == AssignmentStatus.WITHDRAWN:
            assert withdrawn.error is None
            assert not under_review.exists()
            assert (proposal.status, proposal.reply_due) == (Status.REGISTERED, None)
        else:
            assert (submitted.error, lead.status) == (None, AssignmentStatus.ACCEPTED)
            assert withdrawn.error is not None
            assert under_review.count() == 1
            assert proposal.status == Status.REPLY_REVIEW


def test_two_registrations_in_the_same_session_at_once_get_distinct_consecutive_numbers(
    deputy: User, cosigner: User, staff: User, second_staff: User, npc_session: ProposalSession
) -> None:
    numbers: list[int] = []
    for round_ in range(ROUNDS):
        pair = []
        for proposer in (deputy, cosigner):
            draft = services.create_draft(actor=proposer, content=content(title=f"同时立案的建议{round_}"))
            pair.append(services.submit(actor=proposer, proposal_id=draft.pk))

        outcomes = at_once(
            lambda p=pair[0]: services.register(actor=staff, proposal_id=p.pk),
            lambda p=pair[1]: services.register(actor=second_staff, proposal_id=p.pk),
        )

        assert failures(outcomes) == []
        got = sorted(Proposal.objects.get(pk=p.pk).number for p in pair)
        assert got == [len(numbers) + 1, len(numbers) + 2]
        numbers += got
    npc_session.refresh_from_db()
    assert npc_session.next_number == len(numbers) + 1 == 2 * ROUNDS + 1


@pytest.fixture
def held(deputy: User, npc_session: ProposalSession) -> Iterator[Callable[[], None]]:
    """A proposal locked by ``lock()`` in another thread's open transaction, until the test releases it."""
    proposal = services.create_draft(actor=deputy, content=content(title="被锁住的建议"))
    locked, release = threading.Event(), threading.Event()
    problem: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                lock(proposal.pk)
                locked.set()
                release.wait()
        except BaseException as error:
            problem.append(error)
            locked.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait()
    try:
        yield release.set
    finally:
        release.set()
        thread.join()
    assert problem == []


def test_locking_one_proposal_leaves_its_session_free_for_the_others(
    held: Callable[[], None], npc_session: ProposalSession
) -> None:
    with transaction.atomic():
        session = ProposalSession.objects.select_for_update(nowait=True).get(pk=npc_session.pk)

    assert session.pk == npc_session.pk


def test_a_failed_racer_is_a_domain_error_not_a_database_error(
    deputy: User, staff: User, second_staff: User, npc_session: ProposalSession
) -> None:
    for round_ in range(ROUNDS):
        proposal = services.create_draft(actor=deputy, content=content(title=f"重复立案的建议{round_}"))
        services.submit(actor=deputy, proposal_id=proposal.pk)

        outcomes = at_once(
            lambda p=proposal: services.register(actor=staff, proposal_id=p.pk),
            lambda p=proposal: services.register(actor=second_staff, proposal_id=p.pk),
        )

        [error] = failures(outcomes)
        assert isinstance(error, DomainError)
        assert error.code == "invalid_transition:register"
        proposal.refresh_from_db()
        assert proposal.events.filter(action="register").count() == 1
