"""Every action of the transition table against every state, and every service against every wrong persona.

The "given" of these tests is built with the ORM, not by walking the cycle: a draft is created through the
service, the objects an action needs (co-signer invitation, assignments, a reply, an extension request) are
created directly, and the proposal is then put into the state under test with
``Proposal.objects.filter(pk=...).update(status=...)``. Such a proposal is not always one the cycle could
produce (a draft with a sent reply), which is the point: the state alone must decide whether the action
may start.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from consult.kernel.exceptions import InvalidTransition, NotAllowed
from consult.models import Bureau, User
from proposals import services
from proposals.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Attachment,
    CoSigner,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalSession,
    Reply,
    ReplyStatus,
    Status,
)
from proposals.transitions import ALLOWED_FROM
from tests.proposals.conftest import content

PDF = b"%PDF-1.4\n%%EOF\n"
OFFICE = ("staff", "admin_user")
PERSONAS = (
    "deputy",
    "cosigner",
    "member",
    "expert",
    "handler",
    "handler_a",
    "handler_c",
    "staff",
    "admin_user",
    "outsider",
)


@dataclass
class World:
    people: dict[str, User]
    bureau_a: Bureau  # co-handler (handler_a, expert)
    bureau_b: Bureau  # lead (handler)

    def __getattr__(self, name: str) -> User:
        if name == "people":
            raise AttributeError(name)
        try:
            return self.people[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    npc_session: ProposalSession,
    cppcc_session: ProposalSession,
    bureau_a: Bureau,
    bureau_b: Bureau,
    settings: Settings,
    tmp_path: Path,
) -> World:
    settings.MEDIA_ROOT = tmp_path
    return World({name: request.getfixturevalue(name) for name in PERSONAS}, bureau_a, bureau_b)


# --- the minimal objects an action needs, made with the ORM --------------------------------------------------


def assignment(w: World, proposal: Proposal, role: AssignmentRole, status: str = AssignmentStatus.ACCEPTED):
    today = timezone.localdate()
    is_co = role == AssignmentRole.CO
    return Assignment.objects.create(
        proposal=proposal,
        bureau=w.bureau_a if is_co else w.bureau_b,
        role=role,
        status=status,
        assigned_at=timezone.now(),
        assigned_by=w.staff,
        return_by=today + timedelta(days=9),
        reply_due=None if is_co else today + timedelta(days=90),
        opinion_due=today + timedelta(days=30) if is_co else None,
    )


def lead(w: World, proposal: Proposal, status: str = AssignmentStatus.ACCEPTED) -> Assignment:
    return assignment(w, proposal, AssignmentRole.LEAD, status)


def reply(w: World, proposal: Proposal, lead_assignment: Assignment, status: ReplyStatus) -> Reply:
    sent = status == ReplyStatus.SENT
    return Reply.objects.create(
        proposal=proposal,
        assignment=lead_assignment,
        outcome_class="A",
        drafted_class="A",
        body="已按建议增开区间车。",
        contact_person="刘芳",
        contact_phone="13800138001",
        status=status,
        drafted_by=w.handler,
        submitted_at=None if status == ReplyStatus.DRAFT else timezone.now(),
        sent_at=timezone.now() if sent else None,
    )


def with_sent_reply(w: World, p: Proposal) -> dict[str, Any]:
    done = lead(w, p, AssignmentStatus.DONE)
    return {"lead": done, "reply": reply(w, p, done, ReplyStatus.SENT)}


def nothing(w: World, p: Proposal) -> dict[str, Any]:
    return {}


def invited_cosigner(w: World, p: Proposal) -> dict[str, Any]:
    CoSigner.objects.create(proposal=p, deputy=w.cosigner, sign_by=timezone.now() + timedelta(days=7))
    return {}


def an_attachment(w: World, p: Proposal) -> dict[str, Any]:
    stored = Attachment.objects.create(
        proposal=p, file="proposals/x.pdf", name="x.pdf", content_type="application/pdf", size=10, uploaded_by=w.deputy
    )
    return {"attachment": stored}


def another_registered(w: World, p: Proposal) -> dict[str, Any]:
    other = services.create_draft(actor=w.cosigner, content=content(title="同题的另一件建议"))
    Proposal.objects.filter(pk=other.pk).update(status=Status.REGISTERED)
    return {"into": other}


def a_lead(w: World, p: Proposal) -> dict[str, Any]:
    return {"lead": lead(w, p, AssignmentStatus.PENDING)}


def lead_and_co(w: World, p: Proposal) -> dict[str, Any]:
    return {"lead": lead(w, p), "co": assignment(w, p, AssignmentRole.CO)}


def pending_extension(w: World, p: Proposal) -> dict[str, Any]:
    accepted = lead(w, p)
    request = ExtensionRequest.objects.create(
        assignment=accepted,
        requested_due=accepted.reply_due + timedelta(days=30),
        reason="需协调多部门",
        requested_by=w.handler,
    )
    return {"lead": accepted, "request": request}


def draft_reply_of_lead(w: World, p: Proposal) -> dict[str, Any]:
    accepted = lead(w, p)
    return {"lead": accepted, "reply": reply(w, p, accepted, ReplyStatus.DRAFT)}


def reply_awaiting_signoff(w: World, p: Proposal) -> dict[str, Any]:
    given = lead_and_co(w, p)
    return given | {"reply": reply(w, p, given["lead"], ReplyStatus.SIGNOFF)}


def reply_under_review(w: World, p: Proposal) -> dict[str, Any]:
    accepted = lead(w, p)
    return {"lead": accepted, "reply": reply(w, p, accepted, ReplyStatus.REVIEW)}


def pending_dissatisfaction(w: World, p: Proposal) -> dict[str, Any]:
    Proposal.objects.filter(pk=p.pk).update(dissatisfaction_pending=True)
    return with_sent_reply(w, p)


RATINGS = {"contact": "satisfied", "attitude": "satisfied", "result": "satisfied"}


@dataclass(frozen=True)
class Case:
    service: str
    action: str  # the key of ALLOWED_FROM the service checks
    actors: tuple[str, ...]  # personas allowed to call it
    setup: Callable[[World, Proposal], dict[str, Any]]
    call: Callable[[User, World, Proposal, dict[str, Any]], object]


CASES = [
    Case(
        "update_draft",
        "update_draft",
        ("deputy",),
        nothing,
        lambda a, w, p, g: services.update_draft(actor=a, proposal_id=p.pk, content=content(title="修改稿")),
    ),
    Case(
        "invite_cosigner",
        "invite_cosigner",
        ("deputy",),
        nothing,
        lambda a, w, p, g: services.invite_cosigner(actor=a, proposal_id=p.pk, deputy_id=w.cosigner.pk),
    ),
    Case(
        "cosign",
        "cosign",
        ("cosigner",),
        invited_cosigner,
        lambda a, w, p, g: services.cosign(actor=a, proposal_id=p.pk, sign=True),
    ),
    Case(
        "drop_cosigner",
        "drop_cosigner",
        ("deputy",),
        invited_cosigner,
        lambda a, w, p, g: services.drop_cosigner(actor=a, proposal_id=p.pk, deputy_id=w.cosigner.pk),
    ),
    Case(
        "attach",
        "attach",
        ("deputy",),
        nothing,
        lambda a, w, p, g: services.attach(
            actor=a, proposal_id=p.pk, name="x.pdf", size=len(PDF), stream=io.BytesIO(PDF)
        ),
    ),
    Case(
        "remove_attachment",
        "remove_attachment",
        ("deputy",),
        an_attachment,
        lambda a, w, p, g: services.remove_attachment(actor=a, proposal_id=p.pk, attachment_id=g["attachment"].pk),
    ),
    Case(
        "submit",
        "submit",
        ("deputy",),
        nothing,
        lambda a, w, p, g: services.submit(actor=a, proposal_id=p.pk),
    ),
    Case(
        "register",
        "register",
        OFFICE,
        nothing,
        lambda a, w, p, g: services.register(actor=a, proposal_id=p.pk),
    ),
    Case(
        "decline_registration",
        "decline_registration",
        OFFICE,
        nothing,
        lambda a, w, p, g: services.decline_registration(actor=a, proposal_id=p.pk, reason="与往年建议重复"),
    ),
    Case(
        "merge",
        "merge",
        OFFICE,
        another_registered,
        lambda a, w, p, g: services.merge(actor=a, proposal_id=p.pk, into_id=g["into"].pk),
    ),
    Case(
        "convert_to_letter",
        "convert_to_letter",
        OFFICE,
        nothing,
        lambda a, w, p, g: services.convert_to_letter(actor=a, proposal_id=p.pk, reason="属个人诉求"),
    ),
    Case(
        "assign",
        "assign",
        OFFICE,
        nothing,
        lambda a, w, p, g: services.assign(actor=a, proposal_id=p.pk, lead=w.bureau_b.pk, co=[w.bureau_a.pk]),
    ),
    Case(
        "withdraw_assignment",
        "withdraw_assignment",
        OFFICE,
        a_lead,
        lambda a, w, p, g: services.withdraw_assignment(
            actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk, reason="改派"
        ),
    ),
    Case(
        "urge",
        "urge",
        OFFICE,
        a_lead,
        lambda a, w, p, g: services.urge(actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk, note="请尽快答复"),
    ),
    Case(
        "accept_assignment",
        "accept_assignment",
        ("handler",),
        a_lead,
        lambda a, w, p, g: services.accept_assignment(actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk),
    ),
    Case(
        "return_assignment",
        "return_assignment",
        ("handler",),
        a_lead,
        lambda a, w, p, g: services.return_assignment(
            actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk, reason="不属于本委职责"
        ),
    ),
    Case(
        "record_communication",
        "record_communication",
        ("handler",),
        a_lead,
        lambda a, w, p, g: services.record_communication(
            actor=a,
            proposal_id=p.pk,
            assignment_id=g["lead"].pk,
            channel="phone",
            occurred_on=timezone.localdate(),
            summary="电话沟通",
        ),
    ),
    Case(
        "submit_opinion",
        "submit_opinion",
        ("handler_a",),
        lead_and_co,
        lambda a, w, p, g: services.submit_opinion(actor=a, proposal_id=p.pk, assignment_id=g["co"].pk, body="同意"),
    ),
    Case(
        "request_extension",
        "request_extension",
        ("handler",),
        a_lead,
        lambda a, w, p, g: services.request_extension(
            actor=a,
            proposal_id=p.pk,
            assignment_id=g["lead"].pk,
            requested_due=g["lead"].reply_due + timedelta(days=30),
            reason="需协调多部门",
        ),
    ),
    Case(
        "decide_extension",
        "decide_extension",
        OFFICE,
        pending_extension,
        lambda a, w, p, g: services.decide_extension(
            actor=a, proposal_id=p.pk, request_id=g["request"].pk, approve=True
        ),
    ),
    Case(
        "draft_reply",
        "draft_reply",
        ("handler",),
        a_lead,
        lambda a, w, p, g: services.draft_reply(
            actor=a,
            proposal_id=p.pk,
            assignment_id=g["lead"].pk,
            outcome_class="A",
            body="已解决。",
            contact_person="刘芳",
            contact_phone="13800138001",
        ),
    ),
    Case(
        "submit_reply",
        "submit_reply",
        ("handler",),
        draft_reply_of_lead,
        lambda a, w, p, g: services.submit_reply(actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk),
    ),
    Case(
        "sign_off_reply",
        "sign_off_reply",
        ("handler_a",),
        reply_awaiting_signoff,
        lambda a, w, p, g: services.sign_off_reply(
            actor=a, proposal_id=p.pk, reply_id=g["reply"].pk, assignment_id=g["co"].pk
        ),
    ),
    Case(
        "review_reply",
        "review_reply",
        OFFICE,
        reply_under_review,
        lambda a, w, p, g: services.review_reply(actor=a, proposal_id=p.pk, reply_id=g["reply"].pk, approve=True),
    ),
    Case(
        "publish",
        "publish",
        OFFICE,
        with_sent_reply,
        lambda a, w, p, g: services.publish(actor=a, proposal_id=p.pk, reply_id=g["reply"].pk),
    ),
    Case(
        "rate_reply",
        "rate_reply",
        ("deputy",),
        with_sent_reply,
        lambda a, w, p, g: services.rate_reply(actor=a, proposal_id=p.pk, reply_id=g["reply"].pk, **RATINGS),
    ),
    Case(
        "record_paper_feedback",
        "record_paper_feedback",
        OFFICE,
        with_sent_reply,
        lambda a, w, p, g: services.record_paper_feedback(
            actor=a, proposal_id=p.pk, reply_id=g["reply"].pk, rater_id=w.deputy.pk, **RATINGS
        ),
    ),
    Case(
        "review_dissatisfaction",
        "review_dissatisfaction",
        OFFICE,
        pending_dissatisfaction,
        lambda a, w, p, g: services.review_dissatisfaction(
            actor=a, proposal_id=p.pk, confirm=False, reason="答复已说明原因"
        ),
    ),
    Case(
        "send_follow_up_reply",
        "send_follow_up_reply",
        ("handler",),
        with_sent_reply,
        lambda a, w, p, g: services.send_follow_up_reply(
            actor=a, proposal_id=p.pk, assignment_id=g["lead"].pk, body="已全部解决。"
        ),
    ),
    Case(
        "close",
        "close",
        OFFICE,
        nothing,
        lambda a, w, p, g: services.close(actor=a, proposal_id=p.pk, reason="反馈期满"),
    ),
]


def given(w: World, case: Case, status: Status) -> tuple[Proposal, dict[str, Any]]:
    """A proposal of the deputy's, with what ``case`` needs, put into ``status`` directly."""
    proposal = services.create_draft(actor=w.deputy, content=content())
    objects = case.setup(w, proposal)
    Proposal.objects.filter(pk=proposal.pk).update(status=status)
    return Proposal.objects.get(pk=proposal.pk), objects


def state_of(proposal: Proposal) -> tuple[object, ...]:
    """Everything a refused action must leave as it was."""
    p = Proposal.objects.get(pk=proposal.pk)
    rows = (
        p.assignments.values_list("id", "status"),
        p.replies.values_list("id", "status"),
        p.cosigners.values_list("id", "status"),
        p.attachments.values_list("id"),
        ExtensionRequest.objects.filter(assignment__proposal=p).values_list("id", "status"),
        Feedback.objects.filter(proposal=p).values_list("id"),
    )
    return (p.status, p.number, p.dissatisfaction_pending, p.events.count(), *(sorted(r) for r in rows))


def test_every_action_of_the_table_has_a_case() -> None:
    assert {case.action for case in CASES} == set(ALLOWED_FROM)


TABLE = [
    pytest.param(case, status, status in ALLOWED_FROM[case.action], id=f"{case.service}-{status.value}")
    for case in CASES
    for status in Status
]


@pytest.mark.parametrize(("case", "status", "allowed"), TABLE)
def test_an_action_starts_only_from_the_states_the_table_allows(
    world: World, case: Case, status: Status, allowed: bool
) -> None:
    proposal, objects = given(world, case, status)
    actor = world.people[case.actors[0]]
    before = state_of(proposal)

    if allowed:
        case.call(actor, world, proposal, objects)  # must simply work: the given has what it needs
    else:
        with pytest.raises(InvalidTransition) as refused:
            case.call(actor, world, proposal, objects)
        assert refused.value.code == f"invalid_transition:{case.action}"
        assert refused.value.status == 409
        assert state_of(proposal) == before


MATRIX = [
    pytest.param(case, persona, id=f"{case.service}-{persona}")
    for case in CASES
    for persona in PERSONAS
    if persona not in case.actors
]


@pytest.mark.parametrize(("case", "persona"), MATRIX)
def test_a_wrong_persona_is_not_allowed_and_changes_nothing(world: World, case: Case, persona: str) -> None:
    status = next(s for s in Status if s in ALLOWED_FROM[case.action])
    proposal, objects = given(world, case, status)
    before = state_of(proposal)

    with pytest.raises(NotAllowed):
        case.call(world.people[persona], world, proposal, objects)

    assert state_of(proposal) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.actors == OFFICE], ids=lambda c: c.service)
def test_an_administrator_may_do_what_the_office_does(world: World, case: Case) -> None:
    status = next(s for s in Status if s in ALLOWED_FROM[case.action])
    proposal, objects = given(world, case, status)

    case.call(world.admin_user, world, proposal, objects)  # raises if the administrator is refused


@pytest.mark.parametrize("gone", [AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN])
def test_a_bureau_that_no_longer_holds_the_proposal_cannot_send_its_follow_up_reply(
    world: World, bureau_c: Bureau, handler_c: User, gone: AssignmentStatus
) -> None:
    proposal = services.create_draft(actor=world.deputy, content=content())
    old = lead(world, proposal, gone)
    Assignment.objects.create(
        proposal=proposal,
        bureau=bureau_c,
        role=AssignmentRole.LEAD,
        status=AssignmentStatus.DONE,
        assigned_at=timezone.now(),
        assigned_by=world.staff,
        return_by=timezone.localdate(),
        reply_due=timezone.localdate() + timedelta(days=90),
    )
    Proposal.objects.filter(pk=proposal.pk).update(status=Status.FOLLOW_UP, outcome_class="B")
    before = state_of(proposal)

    with pytest.raises((NotAllowed, InvalidTransition)):
        services.send_follow_up_reply(
            actor=world.handler, proposal_id=proposal.pk, assignment_id=old.pk, body="我委已解决。"
        )

    assert state_of(proposal) == before
