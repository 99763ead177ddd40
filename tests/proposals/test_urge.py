"""催办 (``Action.URGE``): the office reminds a bureau of an open assignment, once a day; and 不满意 needs a reason."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import Notification, User
from proposals import services
from proposals.access import timeline_for
from proposals.actions import Action
from proposals.models import Proposal, ProposalEvent
from tests.proposals.conftest import lead_of


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_urge(user: User, proposal: Proposal, **data: object) -> tuple[int, dict[str, object]]:
    response = signed_in(user).post(
        f"/api/proposals/{proposal.pk}/urge/", json.dumps(data), content_type="application/json"
    )
    return response.status_code, response.json()


# --- the service ---------------------------------------------------------------------------------------


def test_the_office_urges_the_bureau_whose_handlers_are_told_and_the_timeline_says_so(
    assigned: Proposal, staff: User, handler: User, handler_a: User, deputy: User
) -> None:
    lead = lead_of(assigned)

    event = services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk, note="请本周内答复")

    assert event.action == Action.URGE
    assert event.bureau_id == lead.bureau_id
    assert "请本周内答复" in event.reason
    told = Notification.objects.filter(kind="supervision.urged")
    assert set(told.values_list("user_id", flat=True)) == {handler.pk}  # bureau B's handler, not bureau A's
    assert told.get().url == f"/proposals/{assigned.pk}/"
    # the office and the urged bureau see it on the timeline; the deputy and the other bureau do not
    assert timeline_for(staff, assigned).filter(action=Action.URGE).exists()
    assert timeline_for(handler, assigned).filter(action=Action.URGE).exists()
    assert not timeline_for(handler_a, assigned).filter(action=Action.URGE).exists()
    assert not timeline_for(deputy, assigned).filter(action=Action.URGE).exists()


def test_a_second_reminder_the_same_day_is_refused_with_when_the_next_may_go(
    assigned: Proposal, staff: User, handler: User
) -> None:
    lead = lead_of(assigned)
    services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)

    with pytest.raises(services.UrgedRecently) as refused:
        services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)

    assert refused.value.status == 429
    assert refused.value.field == "assignment_id"
    assert Notification.objects.filter(kind="supervision.urged").count() == 1
    assert ProposalEvent.objects.filter(proposal=assigned, action=Action.URGE).count() == 1


def test_a_day_later_the_bureau_may_be_urged_again(assigned: Proposal, staff: User) -> None:
    lead = lead_of(assigned)
    services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)
    ProposalEvent.objects.filter(action=Action.URGE).update(at=timezone.now() - timedelta(days=1, minutes=1))

    services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)

    assert ProposalEvent.objects.filter(proposal=assigned, action=Action.URGE).count() == 2


def test_each_bureau_of_a_proposal_has_its_own_daily_reminder(assigned: Proposal, staff: User) -> None:
    for assignment in assigned.assignments.all():
        services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=assignment.pk)

    assert ProposalEvent.objects.filter(proposal=assigned, action=Action.URGE).count() == 2


@pytest.mark.parametrize("persona", ["handler", "deputy", "expert"])
def test_only_the_office_urges(assigned: Proposal, persona: str, request: pytest.FixtureRequest) -> None:
    with pytest.raises(NotAllowed):
        services.urge(
            actor=request.getfixturevalue(persona), proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk
        )

    assert not ProposalEvent.objects.filter(action=Action.URGE).exists()


def test_a_returned_assignment_cannot_be_urged(assigned: Proposal, staff: User, handler: User) -> None:
    lead = lead_of(assigned)
    services.return_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead.pk, reason="不属于本单位职责")

    with pytest.raises(InvalidTransition):
        services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)


def test_a_note_over_the_limit_is_refused_naming_it(assigned: Proposal, staff: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, note="催" * 501)

    assert refused.value.field == "note"


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_urges_and_answers_with_the_timeline(assigned: Proposal, staff: User, handler: User) -> None:
    status, body = api_urge(staff, assigned, assignment_id=lead_of(assigned).pk, note="请尽快答复")

    assert status == 200
    assert any(entry["action"] == "urge" for entry in body["timeline"])  # type: ignore[union-attr]
    assert Notification.objects.filter(user=handler, kind="supervision.urged").exists()


def test_the_api_refuses_a_second_reminder_with_429_and_a_bureau_with_403(
    assigned: Proposal, staff: User, handler: User
) -> None:
    lead = lead_of(assigned)
    api_urge(staff, assigned, assignment_id=lead.pk)

    again, refused = api_urge(staff, assigned, assignment_id=lead.pk)
    by_bureau, _ = api_urge(handler, assigned, assignment_id=lead.pk)
    missing, named = api_urge(staff, assigned)

    assert (again, refused["code"]) == (429, "rate_limited")
    assert "assignment_id" in refused["fields"]  # type: ignore[operator]
    assert by_bureau == 403
    assert missing == 400
    assert "assignment_id" in named["fields"]


# --- 不满意 needs a reason -------------------------------------------------------------------------------


def test_an_unsatisfied_rating_without_a_reason_is_refused_naming_the_comment(
    assigned: Proposal, staff: User, handler: User, handler_a: User, deputy: User
) -> None:
    reply = _sent_reply(assigned, staff, handler, handler_a)

    with pytest.raises(InvalidInput) as refused:
        services.rate_reply(
            actor=deputy,
            proposal_id=assigned.pk,
            reply_id=reply,
            contact="satisfied",
            attitude="satisfied",
            result="unsatisfied",
            comment="   ",
        )
    status, body = _api_rate(deputy, assigned, reply, result="unsatisfied", comment="")

    assert refused.value.field == "comment"
    assert status == 400
    assert list(body["fields"]) == ["comment"]
    assert not Proposal.objects.get(pk=assigned.pk).dissatisfaction_pending


def test_an_unsatisfied_rating_with_a_reason_is_recorded(
    assigned: Proposal, staff: User, handler: User, handler_a: User, deputy: User
) -> None:
    reply = _sent_reply(assigned, staff, handler, handler_a)

    status, _ = _api_rate(deputy, assigned, reply, result="unsatisfied", comment="没有给出时间表")

    assert status == 200
    assert Proposal.objects.get(pk=assigned.pk).dissatisfaction_pending


def _api_rate(user: User, proposal: Proposal, reply_id: int, **data: str) -> tuple[int, dict[str, object]]:
    values = {"reply_id": reply_id, "contact": "satisfied", "attitude": "satisfied", **data}
    response = signed_in(user).post(
        f"/api/proposals/{proposal.pk}/rate-reply/", json.dumps(values), content_type="application/json"
    )
    return response.status_code, response.json()


def _sent_reply(proposal: Proposal, staff: User, handler: User, handler_a: User) -> int:
    lead = lead_of(proposal)
    co = proposal.assignments.get(role="co")
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.submit_opinion(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk, body="同意。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        outcome_class="A",
        body="已增开区间车。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.sign_off_reply(actor=handler_a, proposal_id=proposal.pk, reply_id=reply.pk, assignment_id=co.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    return reply.pk
