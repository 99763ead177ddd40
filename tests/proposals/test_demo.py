"""The demo proposals of 海滨市: every state, coherent timelines, work for the demo logins, no duplicates.

The city is seeded once for the module (300 proposals) inside a transaction that is rolled back at the end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Min
from django.utils import timezone, translation

from consult.demo.city import seed_people
from consult.kernel import texts
from consult.models import Bureau, User
from proposals import services, workdays
from proposals.access import recipients_of
from proposals.demo import SeedReport, seed_proposals
from proposals.events import ACTION_LABELS
from proposals.filters import ProposalFilter
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CoSigner,
    CoSignerStatus,
    ExtensionStatus,
    Feedback,
    Proposal,
    ProposalEvent,
    ProposalSession,
    Reply,
    ReplyKind,
    ReplyStatus,
    Status,
)
from proposals.models.choices import IN_HANDS_OF_BUREAUS, OPEN_ASSIGNMENT, REPLYING_ROLES
from proposals.transitions import ALLOWED_FROM

S = Status
REPLIED = [S.REPLIED, S.FOLLOW_UP, S.CLOSED]


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[SeedReport]:
    with django_db_blocker.unblock(), transaction.atomic():  # type: ignore[attr-defined]
        seed_people()
        workdays.seed_calendar()
        report = seed_proposals(count=300)
        yield report
        transaction.set_rollback(True)
    workdays.clear_cache()


@pytest.fixture
def city(demo: SeedReport, db: None) -> SeedReport:
    return demo


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_seeding_creates_every_state_in_twelve_sessions(city: SeedReport) -> None:
    assert city.created == Proposal.objects.count() == 300
    assert set(Proposal.objects.values_list("status", flat=True)) == set(S.values)
    assert ProposalSession.objects.count() == 12
    assert list(ProposalSession.objects.filter(is_open=True).values_list("year", flat=True)) == [2027, 2027]
    open_states = set(Proposal.objects.filter(session__year=2027).values_list("status", flat=True))
    assert open_states <= {S.DRAFT, S.SUBMITTED}
    assert Proposal.objects.filter(session__year__lt=2026, status__in=IN_HANDS_OF_BUREAUS).count() == 0


def test_kinds_follow_the_chamber_of_the_proposer(city: SeedReport) -> None:
    for kind, chamber, title, deputy_chamber in Proposal.objects.values_list(
        "kind", "session__chamber", "title", "proposer__deputy_profile__chamber"
    ):
        assert (kind, deputy_chamber) == ({"npc": "suggestion", "cppcc": "proposal"}[chamber], chamber)
        assert title.startswith("关于")
        assert title.endswith("的建议" if chamber == "npc" else "的提案")


def test_numbers_are_unique_per_session_and_registration_continues_after_them(city: SeedReport) -> None:
    for session in ProposalSession.objects.all():
        numbers = sorted(n for n in session.proposals.values_list("number", flat=True) if n is not None)
        assert numbers == list(range(1, len(numbers) + 1))
        assert session.next_number == len(numbers) + 1
    registered = Proposal.objects.exclude(status__in=[S.DRAFT, S.SUBMITTED, S.NOT_REGISTERED])
    assert not registered.filter(number=None).exclude(status__in=[S.MERGED, S.LETTER]).exists()


def test_every_replied_proposal_has_a_sent_reply_and_its_events(city: SeedReport) -> None:
    replied = Proposal.objects.filter(status__in=REPLIED)
    assert replied.count() > 150
    for proposal in replied.prefetch_related("replies", "events"):
        sent = [r for r in proposal.replies.all() if r.status == ReplyStatus.SENT]
        assert sent, proposal.pk
        assert all(r.body and r.contact_person and r.contact_phone and r.sent_at for r in sent)
        actions = [e.action for e in proposal.events.all()]
        assert "send_reply" in actions
        assert proposal.first_replied_at is not None
        assert proposal.replied_on_time is not None
        assert proposal.outcome_class in "ABCD"
    published = Proposal.objects.filter(published_at__isnull=False)
    assert published.exists()
    assert not published.exclude(replies__public_body__gt="").exists(), "a published proposal shows its reply"
    assert not published.filter(publication_consent=False).exists()
    assert not Reply.objects.filter(public_body__contains="-87").exists(), "published text has no phone numbers"


def test_timelines_start_with_the_draft_and_chain_every_state_change(city: SeedReport) -> None:
    now = timezone.now()
    events: dict[int, list[ProposalEvent]] = defaultdict(list)
    for event in ProposalEvent.objects.order_by("proposal_id", "at", "id"):
        events[event.proposal_id].append(event)
    statuses = dict(Proposal.objects.values_list("id", "status"))
    assert set(events) == set(statuses)
    for proposal_id, timeline in events.items():
        assert (timeline[0].action, timeline[0].to_status) == ("create_draft", S.DRAFT)
        assert [e.id for e in timeline] == sorted(e.id for e in timeline), "written in the order they happened"
        assert all(e.action in ACTION_LABELS and e.at <= now for e in timeline)
        state = ""
        for event in timeline:
            if event.to_status:
                assert event.from_status == state, (proposal_id, event.action, event.from_status, state)
                state = event.to_status
        assert state == statuses[proposal_id]


# The services' guard (``proposals.transitions.ALLOWED_FROM``) behind each recorded action.
GUARD = {
    "invite_cosigner": "invite_cosigner",
    "cosign": "cosign",
    "decline_cosign": "cosign",
    "submit": "submit",
    "register": "register",
    "decline_registration": "decline_registration",
    "merge": "merge",
    "convert_to_letter": "convert_to_letter",
    "assign": "assign",
    "accept_assignment": "accept_assignment",
    "return_assignment": "return_assignment",
    "record_communication": "record_communication",
    "submit_opinion": "submit_opinion",
    "request_extension": "request_extension",
    "extension_approved": "decide_extension",
    "submit_reply": "submit_reply",
    "sign_off_reply": "sign_off_reply",
    "return_reply": "review_reply",
    "send_reply": "review_reply",
    "publish": "publish",
    "rate_reply": "rate_reply",
    "dismiss_dissatisfaction": "review_dissatisfaction",
    "start_rehandling": "review_dissatisfaction",
    "send_follow_up_reply": "send_follow_up_reply",
}


def test_every_action_happened_in_a_state_its_service_allows(city: SeedReport) -> None:
    state: dict[int, str] = {}
    for event in ProposalEvent.objects.order_by("proposal_id", "at", "id"):
        before = state.get(event.proposal_id, "")
        if event.action in GUARD:
            assert before in ALLOWED_FROM[GUARD[event.action]], (event.proposal_id, event.action, before)
        if event.to_status:
            state[event.proposal_id] = event.to_status


def test_deadlines_are_counted_in_working_days_as_the_services_do(city: SeedReport) -> None:
    extended = set(
        Assignment.objects.filter(extension_requests__status=ExtensionStatus.APPROVED).values_list("id", flat=True)
    )
    for a in Assignment.objects.all():
        day = timezone.localtime(a.assigned_at).date()
        assert a.return_by == workdays.add_working_days(day, 7)
        if a.returned_at is not None:
            assert timezone.localtime(a.returned_at).date() <= a.return_by
        if a.role == AssignmentRole.CO:
            assert (a.reply_due, a.opinion_due) == (None, workdays.add_months_then_working_day(day, 1))
        elif a.id not in extended:
            assert a.reply_due == workdays.add_months_then_working_day(day, 3 if a.round == 1 else 1)
    for proposal in Proposal.objects.filter(status__in=IN_HANDS_OF_BUREAUS):
        open_replying = proposal.assignments.filter(
            status__in=OPEN_ASSIGNMENT, role__in=REPLYING_ROLES, round=proposal.rehandling_round
        )
        assert proposal.reply_due == open_replying.aggregate(due=Min("reply_due"))["due"]


def test_a_lead_replies_only_once_its_co_handlers_gave_their_opinions_or_their_time_ran_out(city: SeedReport) -> None:
    """What ``submit_reply`` checks; and a signed-off reply was signed by every open co-handler."""
    answers = Reply.objects.filter(kind=ReplyKind.ANSWER, assignment__role=AssignmentRole.LEAD, round=1)
    for reply in answers.exclude(submitted_at=None):
        submitted_at = reply.submitted_at
        assert submitted_at is not None
        co_handlers = Assignment.objects.filter(proposal=reply.proposal_id, role=AssignmentRole.CO, round=1)
        for co in co_handlers:
            opinion = getattr(co, "opinion", None)
            given = opinion is not None and opinion.submitted_at <= submitted_at
            assert given or (co.opinion_due or submitted_at.date()) < timezone.localtime(submitted_at).date()
        if reply.status in (ReplyStatus.REVIEW, ReplyStatus.SENT):
            assert reply.signoffs.count() == co_handlers.count(), reply.proposal_id


def test_ratings_come_from_those_who_may_rate_and_mostly_satisfied(city: SeedReport) -> None:
    for proposal in Proposal.objects.filter(feedback__isnull=False).distinct():
        assert set(proposal.feedback.values_list("rater_id", flat=True)) <= recipients_of(proposal)
    results = Counter(Feedback.objects.values_list("result", flat=True))
    assert results["satisfied"] > results["basically"] > 0
    assert results["unsatisfied"] > 0
    assert not CoSigner.objects.filter(status=CoSignerStatus.INVITED).exclude(proposal__status=S.DRAFT).exists()


def test_the_details_the_platform_composes_are_codes_read_in_the_readers_language(city: SeedReport) -> None:
    composed = ["rate_reply", "record_communication", "send_reply", "extension_approved", "return_assignment"]
    events = ProposalEvent.objects.filter(action__in=composed)
    assert events.exists()
    assert not events.filter(code="").exists()
    rated = events.filter(action="rate_reply").first()
    assert rated is not None
    with translation.override("en"):
        english = texts.render(rated.code, rated.params, rated.reason)
    assert english.isascii()
    assert rated.reason == texts.render(rated.code, rated.params)  # the wording kept in the site's language


def test_the_demo_deputy_and_member_each_own_proposals_in_varied_states(city: SeedReport) -> None:
    for username in ("deputy", "member"):
        own = Proposal.objects.filter(proposer=user(username))
        assert 7 <= own.count() <= 12
        assert own.values("status").distinct().count() >= 6
        assert own.filter(status=S.DRAFT).exists()
        assert own.filter(status=S.REPLIED).exclude(feedback__rater=user(username)).exists(), "one awaits rating"
    assert CoSigner.objects.filter(deputy=user("deputy"), status=CoSignerStatus.INVITED).exists()


def test_the_demo_handler_has_a_queue_and_sees_only_its_bureaus_proposals(city: SeedReport) -> None:
    handler = user("handler")
    transport = Bureau.objects.get(name="市交通委")
    visible = Proposal.objects.visible_to(handler)
    assert visible.exists()
    assert not visible.exclude(assignments__bureau=transport).exists()
    assert set(visible) == set(Proposal.objects.filter(assignments__bureau=transport).exclude(status=S.DRAFT))
    queue = visible.filter(
        assignments__bureau=transport, assignments__role=AssignmentRole.LEAD, status__in=[S.ASSIGNED, S.HANDLING]
    ).distinct()
    today = timezone.localdate()
    assert queue.count() >= 6
    assert queue.filter(reply_due__lt=today).exists(), "some overdue"
    assert queue.filter(reply_due__gte=today, reply_due__lte=today + timedelta(days=10)).exists()
    overdue = ProposalFilter({"overdue": "true"}, queryset=visible).qs
    assert overdue.exists()
    assert set(overdue) <= set(visible)


def test_the_demo_expert_sees_the_proposals_of_the_education_bureau(city: SeedReport) -> None:
    expert = user("expert")
    education = Bureau.objects.get(name="市教委")
    visible = Proposal.objects.visible_to(expert)
    assert visible.filter(status__in=[S.ASSIGNED, S.HANDLING]).count() >= 3
    assert not visible.exclude(assignments__bureau=education).exists()


def test_the_demo_logins_can_carry_on_through_the_real_services(city: SeedReport) -> None:
    handler, deputy = user("handler"), user("deputy")
    pending = Assignment.objects.filter(
        bureau__name="市交通委", role=AssignmentRole.LEAD, status=AssignmentStatus.PENDING, proposal__status=S.ASSIGNED
    ).first()
    assert pending is not None
    services.accept_assignment(actor=handler, proposal_id=pending.proposal_id, assignment_id=pending.pk)
    assert Proposal.objects.get(pk=pending.proposal_id).status == S.HANDLING

    awaiting = Proposal.objects.filter(proposer=deputy, status=S.REPLIED).first()
    assert awaiting is not None
    reply = awaiting.replies.filter(status=ReplyStatus.SENT, round=awaiting.rehandling_round).last()
    assert reply is not None
    good = {"contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}
    services.rate_reply(actor=deputy, proposal_id=awaiting.pk, reply_id=reply.pk, **good)

    invited = CoSigner.objects.filter(deputy=deputy, status=CoSignerStatus.INVITED).first()
    assert invited is not None
    invited.sign_by = timezone.now() + timedelta(days=3)  # the invitation may have lapsed since seeding
    invited.save()
    services.cosign(actor=deputy, proposal_id=invited.proposal_id, sign=True)


def test_seeding_again_adds_nothing(city: SeedReport) -> None:
    before = (Proposal.objects.count(), ProposalEvent.objects.count(), ProposalSession.objects.count())

    again = seed_proposals(count=300)

    assert (again.skipped, again.created) == (True, 0)
    assert (Proposal.objects.count(), ProposalEvent.objects.count(), ProposalSession.objects.count()) == before
