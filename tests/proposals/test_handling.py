"""办理: communication with the deputy, co-handler opinions to the lead, extension requests and decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import Bureau, Notification, User
from proposals import services, workdays
from proposals.access import access_of, timeline_for
from proposals.models import (
    Audience,
    Channel,
    CoHandlerOpinion,
    Communication,
    ExtensionRequest,
    ExtensionStatus,
    Proposal,
    ProposalEvent,
)
from tests.factories import DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of

SUMMARY = "电话联系王建国代表，了解翠湖新村早高峰线路需求。"


@pytest.fixture
def handling(assigned: Proposal, handler: User, handler_a: User) -> Proposal:
    """Both bureaus accepted: lead bureau B (``handler``), co-handling bureau A (``handler_a``)."""
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)
    services.accept_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk)
    return Proposal.objects.get(pk=assigned.pk)


@pytest.fixture
def decliner(db: None) -> User:
    return DeputyProfileFactory(user__username="decliner", user__full_name="钱进").user


@pytest.fixture
def cosigned(
    deputy: User, cosigner: User, decliner: User, staff: User, handler: User, npc_session, bureau_a, bureau_b
) -> Proposal:
    """Signed by ``cosigner``, declined by ``decliner``; assigned to bureau B (lead) and A (co), lead accepted."""
    proposal = services.create_draft(actor=deputy, content=content())
    for invitee in (cosigner, decliner):
        services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=invitee.pk)
    services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
    services.cosign(actor=decliner, proposal_id=proposal.pk, sign=False)
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead_of(proposal).pk)
    return Proposal.objects.get(pk=proposal.pk)


def communicate(actor: User, proposal: Proposal, assignment_id: int, **overrides: object) -> Communication:
    values: dict[str, object] = {
        "channel": Channel.PHONE,
        "occurred_on": timezone.localdate(),
        "summary": SUMMARY,
    }
    values.update(overrides)
    return services.record_communication(
        actor=actor,
        proposal_id=proposal.pk,
        assignment_id=assignment_id,
        **values,  # type: ignore[arg-type]
    )


def ask_for_time(actor: User, proposal: Proposal, assignment_id: int, days_after_due: int = 30) -> ExtensionRequest:
    assignment = proposal.assignments.get(pk=assignment_id)
    return services.request_extension(
        actor=actor,
        proposal_id=proposal.pk,
        assignment_id=assignment_id,
        requested_due=assignment.reply_due + timedelta(days=days_after_due),
        reason="需与轨道交通线网规划统筹论证",
    )


def kinds_of(user: User) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


# --- record_communication -------------------------------------------------------------------


@pytest.mark.parametrize("channel", Channel.values)
def test_lead_handler_records_a_communication_by_any_channel(handling: Proposal, handler: User, channel: str) -> None:
    # given a proposal in handling, when the lead's handler records a contact by this channel
    yesterday = timezone.localdate() - timedelta(days=1)
    communication = communicate(handler, handling, lead_of(handling).pk, channel=channel, occurred_on=yesterday)

    # then it is stored for the lead assignment, with who recorded it
    stored = Communication.objects.get(pk=communication.pk)
    assert (stored.channel, stored.occurred_on, stored.summary) == (channel, yesterday, SUMMARY)
    assert (stored.assignment_id, stored.recorded_by_id) == (lead_of(handling).pk, handler.pk)


def test_communication_on_an_unknown_channel_is_refused(handling: Proposal, handler: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        communicate(handler, handling, lead_of(handling).pk, channel="pigeon")
    assert refused.value.field == "channel"
    assert not Communication.objects.exists()


def test_communication_dated_in_the_future_is_refused_naming_occurred_on(handling: Proposal, handler: User) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        communicate(handler, handling, lead_of(handling).pk, occurred_on=tomorrow)
    assert refused.value.field == "occurred_on"
    assert not Communication.objects.exists()


@pytest.mark.parametrize("summary", ["", "   \n "], ids=["empty", "blank"])
def test_communication_without_a_summary_is_refused(handling: Proposal, handler: User, summary: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        communicate(handler, handling, lead_of(handling).pk, summary=summary)
    assert refused.value.field == "summary"
    assert not Communication.objects.exists()


def test_co_handling_bureau_may_record_its_own_communication(handling: Proposal, handler_a: User) -> None:
    # given bureau A co-handles, when its handler records a visit on its assignment
    communication = communicate(handler_a, handling, co_of(handling).pk, channel=Channel.VISIT)

    # then the record belongs to bureau A's assignment
    assert communication.assignment.bureau.name == "市教委"


def test_co_handler_may_record_before_the_lead_accepts(assigned: Proposal, handler_a: User) -> None:
    # given a freshly assigned proposal (nobody accepted yet), when the co-handler records a call
    communicate(handler_a, assigned, co_of(assigned).pk)

    # then it is stored: any open assignment may record
    assert Communication.objects.filter(proposal=assigned).count() == 1


def test_handler_of_another_bureau_cannot_record_on_an_assignment(
    handling: Proposal, handler: User, handler_c: User, expert: User
) -> None:
    # bureau C holds nothing; bureau B's handler cannot use bureau A's assignment; an expert never records
    for actor, assignment in (
        (handler_c, lead_of(handling)),
        (handler, co_of(handling)),
        (expert, co_of(handling)),
    ):
        with pytest.raises(NotAllowed):
            communicate(actor, handling, assignment.pk)
    assert not Communication.objects.exists()


def test_communication_on_a_withdrawn_assignment_is_refused(handling: Proposal, handler_a: User, staff: User) -> None:
    # given the office withdrew bureau A's co-assignment
    co = co_of(handling)
    services.withdraw_assignment(actor=staff, proposal_id=handling.pk, assignment_id=co.pk, reason="改由他局会办")

    # when bureau A still tries to record on it, then it is refused: the assignment exists but is closed (409)
    with pytest.raises(InvalidTransition):
        communicate(handler_a, handling, co.pk)


def test_communication_before_assignment_is_refused(registered: Proposal, handler: User) -> None:
    with pytest.raises(InvalidTransition):
        services.record_communication(
            actor=handler,
            proposal_id=registered.pk,
            assignment_id=0,
            channel=Channel.PHONE,
            occurred_on=timezone.localdate(),
            summary=SUMMARY,
        )


def test_deputy_sees_the_communication_on_the_timeline(handling: Proposal, handler: User, deputy: User) -> None:
    # when the lead records a meeting
    communicate(handler, handling, lead_of(handling).pk, channel=Channel.MEETING)

    # then the deputy's timeline shows it, with the bureau and the channel; the summary (it may carry phone
    # numbers) is in the communication records, which only the office, that bureau and the recipients read
    event = timeline_for(deputy, handling).get(action="record_communication")
    assert event.actor_id == handler.pk
    assert "市交通委" in event.reason
    assert str(Channel.MEETING.label) in event.reason
    assert SUMMARY not in event.reason
    access = access_of(deputy, handling)
    assert [c.summary for c in handling.communications.all() if access.sees_communication(c)] == [SUMMARY]


# --- submit_opinion -------------------------------------------------------------------------


def test_co_handler_gives_its_opinion_to_the_lead_bureau(
    handling: Proposal, handler_a: User, handler: User, deputy: User
) -> None:
    # when bureau A gives its opinion
    opinion = services.submit_opinion(
        actor=handler_a, proposal_id=handling.pk, assignment_id=co_of(handling).pk, body="同意增开区间车。"
    )

    # then it is stored on bureau A's assignment and the lead bureau's handler is told
    assert CoHandlerOpinion.objects.get(pk=opinion.pk).assignment_id == co_of(handling).pk
    assert "opinion.new" in kinds_of(handler)
    assert "opinion.new" not in kinds_of(deputy)
    # and the timeline event is a bureau note addressed to the lead bureau, unseen by the deputy
    event = ProposalEvent.objects.get(proposal=handling, action="submit_opinion")
    assert (event.audience, event.bureau_id) == (Audience.BUREAU, lead_of(handling).bureau_id)
    assert event.reason == "市教委"
    assert event in timeline_for(handler, handling)
    assert event not in timeline_for(deputy, handling)


def test_co_handler_gives_its_opinion_only_once(handling: Proposal, handler_a: User) -> None:
    co = co_of(handling)
    services.submit_opinion(actor=handler_a, proposal_id=handling.pk, assignment_id=co.pk, body="同意。")

    with pytest.raises(InvalidInput) as refused:
        services.submit_opinion(actor=handler_a, proposal_id=handling.pk, assignment_id=co.pk, body="补充意见。")
    assert refused.value.code == "already_done"
    assert CoHandlerOpinion.objects.get(assignment=co).body == "同意。"


def test_lead_bureau_gives_no_opinion(handling: Proposal, handler: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.submit_opinion(
            actor=handler, proposal_id=handling.pk, assignment_id=lead_of(handling).pk, body="主办意见"
        )
    assert refused.value.field == "assignment_id"
    assert not CoHandlerOpinion.objects.exists()


def test_only_the_co_handling_bureau_gives_its_opinion(handling: Proposal, handler: User, handler_c: User) -> None:
    for actor in (handler, handler_c):
        with pytest.raises(NotAllowed):
            services.submit_opinion(
                actor=actor, proposal_id=handling.pk, assignment_id=co_of(handling).pk, body="代为填写"
            )
    assert not CoHandlerOpinion.objects.exists()


def test_opinion_needs_a_body(handling: Proposal, handler_a: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.submit_opinion(actor=handler_a, proposal_id=handling.pk, assignment_id=co_of(handling).pk, body=" ")
    assert refused.value.field == "body"


# --- request_extension ----------------------------------------------------------------------


def test_lead_bureau_asks_for_more_time_and_the_office_is_told(
    handling: Proposal, handler: User, staff: User, deputy: User
) -> None:
    # when the lead asks for 30 more days
    lead = lead_of(handling)
    request = ask_for_time(handler, handling, lead.pk)

    # then a pending request exists, the office is told, and the deputy is not (yet)
    assert request.status == ExtensionStatus.PENDING
    assert request.requested_due == lead.reply_due + timedelta(days=30)
    assert "extension.requested" in kinds_of(staff)
    event = ProposalEvent.objects.get(proposal=handling, action="request_extension")
    assert (event.audience, event.bureau_id) == (Audience.BUREAU, lead.bureau_id)
    assert event not in timeline_for(deputy, handling)


def test_co_handling_bureau_cannot_ask_for_more_time(handling: Proposal, handler_a: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        services.request_extension(
            actor=handler_a,
            proposal_id=handling.pk,
            assignment_id=co_of(handling).pk,
            requested_due=timezone.localdate() + timedelta(days=120),
            reason="会办需要更多时间",
        )
    assert refused.value.field == "assignment_id"
    assert not ExtensionRequest.objects.exists()


def test_another_bureau_cannot_ask_for_more_time_for_the_lead(handling: Proposal, handler_a: User) -> None:
    with pytest.raises(NotAllowed):
        ask_for_time(handler_a, handling, lead_of(handling).pk)
    assert not ExtensionRequest.objects.exists()


@pytest.mark.parametrize("days_after_due", [0, -1], ids=["same-day", "earlier"])
def test_extension_must_end_after_the_current_deadline(handling: Proposal, handler: User, days_after_due: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        ask_for_time(handler, handling, lead_of(handling).pk, days_after_due=days_after_due)
    assert refused.value.field == "requested_due"


def test_extension_ends_six_months_after_assignment_at_the_latest(handling: Proposal, handler: User) -> None:
    # given the lead was assigned today: six months later is the last possible day
    lead = lead_of(handling)
    latest = workdays.add_months(timezone.localtime(lead.assigned_at).date(), 6)

    # when asking for one day more, then it is refused naming the date
    with pytest.raises(InvalidInput) as refused:
        services.request_extension(
            actor=handler,
            proposal_id=handling.pk,
            assignment_id=lead.pk,
            requested_due=latest + timedelta(days=1),
            reason="论证周期长",
        )
    assert refused.value.field == "requested_due"
    # and asking for the last day itself is accepted
    request = services.request_extension(
        actor=handler, proposal_id=handling.pk, assignment_id=lead.pk, requested_due=latest, reason="论证周期长"
    )
    assert request.requested_due == latest


def test_extension_needs_a_reason(handling: Proposal, handler: User) -> None:
    lead = lead_of(handling)
    with pytest.raises(InvalidInput) as refused:
        services.request_extension(
            actor=handler,
            proposal_id=handling.pk,
            assignment_id=lead.pk,
            requested_due=lead.reply_due + timedelta(days=10),
            reason="  ",
        )
    assert refused.value.field == "reason"


def test_one_extension_request_waits_at_a_time(handling: Proposal, handler: User, staff: User) -> None:
    # given a pending request
    lead = lead_of(handling)
    first = ask_for_time(handler, handling, lead.pk, days_after_due=20)

    # when asking again, then it is refused
    with pytest.raises(InvalidInput) as refused:
        ask_for_time(handler, handling, lead.pk, days_after_due=40)
    assert refused.value.field == "requested_due"

    # and once the office refused the first, a new request may be made
    services.decide_extension(actor=staff, proposal_id=handling.pk, request_id=first.pk, approve=False, note="理由不足")
    second = ask_for_time(handler, handling, lead.pk, days_after_due=40)
    assert second.status == ExtensionStatus.PENDING


# --- decide_extension -----------------------------------------------------------------------


def test_approved_extension_moves_both_due_dates_and_tells_the_deputies(
    cosigned: Proposal, handler: User, staff: User, deputy: User, cosigner: User, decliner: User
) -> None:
    # given the lead asked for 30 more days
    lead = lead_of(cosigned)
    request = ask_for_time(handler, cosigned, lead.pk)

    # when the office approves
    decided = services.decide_extension(actor=staff, proposal_id=cosigned.pk, request_id=request.pk, approve=True)

    # then the assignment and the proposal have the new date
    new_due = lead.reply_due + timedelta(days=30)
    assert (decided.status, decided.decided_by_id) == (ExtensionStatus.APPROVED, staff.pk)
    assert lead_of(cosigned).reply_due == new_due
    assert Proposal.objects.get(pk=cosigned.pk).reply_due == new_due
    # and the proposer and the signed co-signer are told, the one who declined is not; the bureau hears back
    assert "extension.approved" in kinds_of(deputy)
    assert "extension.approved" in kinds_of(cosigner)
    assert "extension.approved" not in kinds_of(decliner)
    assert "extension.decided" in kinds_of(handler)
    # and the deputy sees it on the timeline
    assert timeline_for(deputy, cosigned).filter(action="extension_approved").exists()


def test_rejected_extension_leaves_the_dates(
    cosigned: Proposal, handler: User, staff: User, deputy: User, cosigner: User
) -> None:
    # given the lead asked for more time
    lead = lead_of(cosigned)
    request = ask_for_time(handler, cosigned, lead.pk)

    # when the office refuses
    decided = services.decide_extension(
        actor=staff, proposal_id=cosigned.pk, request_id=request.pk, approve=False, note="请按期答复"
    )

    # then nothing moves, the bureau is told, and the deputies are not bothered
    assert (decided.status, decided.decision_note) == (ExtensionStatus.REJECTED, "请按期答复")
    assert lead_of(cosigned).reply_due == lead.reply_due
    assert Proposal.objects.get(pk=cosigned.pk).reply_due == lead.reply_due
    assert "extension.decided" in kinds_of(handler)
    assert "extension.approved" not in kinds_of(deputy) + kinds_of(cosigner)
    assert not timeline_for(deputy, cosigned).filter(action="extension_rejected").exists()


def test_only_the_office_decides_an_extension(handling: Proposal, handler: User, deputy: User) -> None:
    request = ask_for_time(handler, handling, lead_of(handling).pk)
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            services.decide_extension(actor=actor, proposal_id=handling.pk, request_id=request.pk, approve=True)
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.PENDING


def test_an_extension_is_decided_once(handling: Proposal, handler: User, staff: User) -> None:
    request = ask_for_time(handler, handling, lead_of(handling).pk)
    services.decide_extension(actor=staff, proposal_id=handling.pk, request_id=request.pk, approve=True)

    with pytest.raises(InvalidTransition):  # decided already: a conflict with its state, not a missing request
        services.decide_extension(actor=staff, proposal_id=handling.pk, request_id=request.pk, approve=False)
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.APPROVED


def test_approved_extension_of_one_separate_bureau_keeps_the_earliest_due_on_the_proposal(
    registered: Proposal, staff: User, handler: User, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    # given 分办 to bureaus B and C, both due the same day
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    mine = registered.assignments.get(bureau=bureau_b)
    request = ask_for_time(handler, registered, mine.pk)

    # when bureau B's extension is approved
    services.decide_extension(actor=staff, proposal_id=registered.pk, request_id=request.pk, approve=True)

    # then bureau B's date moves, the proposal still shows bureau C's earlier date
    assert registered.assignments.get(pk=mine.pk).reply_due == mine.reply_due + timedelta(days=30)
    assert Proposal.objects.get(pk=registered.pk).reply_due == registered.assignments.get(bureau=bureau_c).reply_due
