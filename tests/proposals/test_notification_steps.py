"""A notification at every step of the proposal cycle where someone must act, only to those who may see it.

Each is stored as its kind and parameters and worded in the reader's language when read.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from consult.models import Bureau, Notification, User
from consult.notifications.services import PreferenceChange, set_preferences
from proposals import services, workdays
from proposals.models import Assignment, Proposal
from proposals.services._common import tell
from tests.factories import HandlerProfileFactory
from tests.proposals.conftest import co_of, content, lead_of

TITLE = content().title


def kinds_of(user: User) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def last_of(user: User, kind: str) -> Notification:
    return Notification.objects.filter(user=user, kind=kind).latest("id")


@pytest.fixture
def outside_handler(db: None) -> User:
    """A handler of a bureau the proposal is never assigned to."""
    bureau = Bureau.objects.create(code="sw", name="市商务委", full_name="海滨市商务委员会")
    return HandlerProfileFactory(user__username="outside", user__full_name="钱多", bureau=bureau).user


def test_a_co_sign_invitation_reaches_the_invited_deputy(draft: Proposal, deputy: User, cosigner: User) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    invitation = last_of(cosigner, "cosign.invited")
    assert invitation.params == {"subject": TITLE}
    assert invitation.url == f"/proposals/{draft.pk}/"


def test_a_submitted_proposal_waits_for_the_office_to_register_it(staff: User, submitted: Proposal) -> None:
    # (staff first: the office exists before the deputy submits)
    assert "proposal.submitted" in kinds_of(staff)


def test_assigning_tells_the_handlers_of_each_bureau_and_nobody_else(
    handler: User, handler_a: User, outside_handler: User, assigned: Proposal
) -> None:
    # 交办: the lead bureau B (handler) and the co-handling bureau A (handler_a)
    assert "assignment.new" in kinds_of(handler)
    assert "assignment.new" in kinds_of(handler_a)
    assert kinds_of(outside_handler) == []


def test_tell_leaves_out_those_who_may_not_see_the_proposal(
    draft: Proposal, deputy: User, outside_handler: User
) -> None:
    # a draft is its author's alone: the access policy (who_may_see) filters the recipients
    tell([deputy.pk, outside_handler.pk], draft, "test.step", "测试")

    assert kinds_of(deputy) == ["test.step"]
    assert kinds_of(outside_handler) == []


def test_a_sent_reply_asks_the_proposer_to_rate_it(
    deputy: User, staff: User, handler: User, handler_a: User, assigned: Proposal
) -> None:
    lead, co = lead_of(assigned), co_of(assigned)
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    services.submit_opinion(actor=handler_a, proposal_id=assigned.pk, assignment_id=co.pk, body="同意。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead.pk,
        outcome_class="A",
        body="已列入计划。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk)
    assert "reply.signoff" in kinds_of(handler_a)
    services.sign_off_reply(actor=handler_a, proposal_id=assigned.pk, reply_id=reply.pk, assignment_id=co.pk)
    assert "reply.review" in kinds_of(staff)
    services.review_reply(actor=staff, proposal_id=assigned.pk, reply_id=reply.pk, approve=True)

    to_rate = last_of(deputy, "reply.sent")
    with translation.override("en"):
        assert to_rate.text == f"You received a reply; please rate it: {TITLE}"
    with translation.override("zh-hans"):
        assert to_rate.text == f"您收到了答复，请评价：{TITLE}"


def test_a_coming_deadline_reminds_the_bureau_with_its_date(
    registered: Proposal, staff: User, handler: User, bureau_b: Bureau
) -> None:
    workdays.clear_cache()
    workdays.seed_calendar([2026])
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    Assignment.objects.filter(pk=lead_of(registered).pk).update(reply_due=date(2026, 10, 12))

    services.sweep_deadlines(now=datetime(2026, 10, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    workdays.clear_cache()

    reminder = last_of(handler, "deadline.soon")
    assert reminder.params == {"subject": TITLE, "due": "2026-10-12"}
    with translation.override("en"):
        assert reminder.text == f"Due soon 2026-10-12: {TITLE}"


def test_a_family_turned_off_is_not_written_at_all(draft: Proposal, deputy: User, cosigner: User) -> None:
    set_preferences(actor=cosigner, change=PreferenceChange(muted=["cosign"]))

    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert kinds_of(cosigner) == []
