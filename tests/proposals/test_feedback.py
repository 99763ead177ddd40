"""反馈 and what follows: ratings, 不满意 and 重新办理, 跟踪办理 for B/C, paper forms and 办结."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import Bureau, Notification, User
from proposals import services, workdays
from proposals.models import (
    AssignmentRole,
    AssignmentStatus,
    Feedback,
    Proposal,
    Reply,
    ReplyKind,
    ReplyStatus,
    Status,
)
from tests.factories import DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of

Send = Callable[..., Reply]


@pytest.fixture
def send_reply(
    deputy: User, cosigner: User, staff: User, handler: User, handler_a: User, npc_session, bureau_a, bureau_b
) -> Send:
    """Walk a proposal of ``deputy``, co-signed by ``cosigner``, to a sent reply of the given class.

    Lead bureau B (``handler``) replies; co-handling bureau A (``handler_a``) gives its opinion and signs.
    """

    def send(outcome_class: str = "A") -> Reply:
        proposal = services.create_draft(actor=deputy, content=content())
        services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=cosigner.pk)
        services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
        services.submit(actor=deputy, proposal_id=proposal.pk)
        services.register(actor=staff, proposal_id=proposal.pk)
        services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
        lead, co = lead_of(proposal), co_of(proposal)
        services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
        services.submit_opinion(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk, body="同意。")
        reply = services.draft_reply(
            actor=handler,
            proposal_id=proposal.pk,
            assignment_id=lead.pk,
            outcome_class=outcome_class,
            body="区间车已列入计划，站点优化正在论证。",
            contact_person="刘芳",
            contact_phone="13800138001",
        )
        services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
        services.sign_off_reply(actor=handler_a, proposal_id=proposal.pk, reply_id=reply.pk, assignment_id=co.pk)
        return services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)

    return send


def rate(actor: User, reply: Reply, result: str = "satisfied", **overrides: str) -> Feedback:
    values = {"contact": "satisfied", "attitude": "satisfied", "result": result}
    if result == "unsatisfied":
        values["comment"] = "答复未给出时间表"  # 不满意 always says why
    values.update(overrides)
    return services.rate_reply(actor=actor, proposal_id=reply.proposal_id, reply_id=reply.pk, **values)


def proposal_of(reply: Reply) -> Proposal:
    return Proposal.objects.get(pk=reply.proposal_id)


def told(user: User, kind: str) -> int:
    return Notification.objects.filter(user=user, kind=kind).count()


# --- rate_reply -----------------------------------------------------------------------------


def test_proposer_rates_the_reply_from_their_own_account(send_reply: Send, deputy: User) -> None:
    reply = send_reply("A")

    feedback = rate(deputy, reply, result="basically", comment="线路已优化")

    stored = Feedback.objects.get(pk=feedback.pk)
    assert (stored.rater_id, stored.entered_by_id, stored.on_paper) == (deputy.pk, deputy.pk, False)
    assert (stored.contact, stored.attitude, stored.result, stored.comment) == (
        "satisfied",
        "satisfied",
        "basically",
        "线路已优化",
    )
    # and with the co-signer yet to rate, the proposal waits
    assert proposal_of(reply).status == Status.REPLIED


def test_signed_cosigner_rates_the_reply_too(send_reply: Send, cosigner: User) -> None:
    reply = send_reply("A")
    assert rate(cosigner, reply).rater_id == cosigner.pk


def test_nobody_else_rates_the_reply(send_reply: Send, handler: User, staff: User) -> None:
    # a bureau never rates on a deputy's behalf; the office enters paper forms only; other deputies have no say
    reply = send_reply("A")
    another_deputy = DeputyProfileFactory(user__username="another", user__full_name="郑伟").user
    for actor in (handler, staff, another_deputy):
        with pytest.raises(NotAllowed):
            rate(actor, reply)
    assert not Feedback.objects.exists()


def test_a_reply_is_rated_once_per_person(send_reply: Send, deputy: User) -> None:
    reply = send_reply("A")
    rate(deputy, reply, result="basically")

    with pytest.raises(InvalidInput) as refused:
        rate(deputy, reply, result="unsatisfied")
    assert refused.value.code == "already_done"
    assert Feedback.objects.get().result == "basically"
    assert not proposal_of(reply).dissatisfaction_pending


@pytest.mark.parametrize("field", ["contact", "attitude", "result"])
def test_an_unknown_rating_is_refused_naming_the_field(send_reply: Send, deputy: User, field: str) -> None:
    reply = send_reply("A")
    with pytest.raises(InvalidInput) as refused:
        rate(deputy, reply, **{field: "great"})
    assert refused.value.field == field
    assert not Feedback.objects.exists()


def test_reply_is_rated_only_once_sent(
    assigned: Proposal, deputy: User, handler: User, handler_a: User, bureau_b: Bureau
) -> None:
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)
    services.submit_opinion(actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk, body="同意")
    draft = services.draft_reply(
        actor=handler,
        proposal_id=assigned.pk,
        assignment_id=lead_of(assigned).pk,
        outcome_class="A",
        body="已解决。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    with pytest.raises(InvalidTransition):
        rate(deputy, draft)


# --- closing, follow-up ---------------------------------------------------------------------


@pytest.mark.parametrize("outcome_class", ["A", "D"])
def test_everyone_satisfied_with_class_a_or_d_closes_the_proposal(
    send_reply: Send, deputy: User, cosigner: User, outcome_class: str
) -> None:
    # given a class A (or D) reply
    reply = send_reply(outcome_class)

    # when the proposer and the co-signer are (basically) satisfied
    rate(deputy, reply, result="satisfied")
    rate(cosigner, reply, result="basically")

    # then the proposal is closed
    proposal = proposal_of(reply)
    assert proposal.status == Status.CLOSED
    assert proposal.closed_at is not None
    assert proposal.events.order_by("-at", "-id").first().action == "close"


@pytest.mark.parametrize("outcome_class", ["B", "C"])
def test_class_b_or_c_goes_to_follow_up_and_closes_with_the_follow_up_reply(
    send_reply: Send, deputy: User, cosigner: User, handler: User, outcome_class: str
) -> None:
    # given a class B (or C) reply that everyone is satisfied with
    reply = send_reply(outcome_class)
    rate(deputy, reply)
    rate(cosigner, reply)
    assert proposal_of(reply).status == Status.FOLLOW_UP

    # when the bureau later solves it and sends a follow-up reply
    follow_up = services.send_follow_up_reply(
        actor=handler, proposal_id=reply.proposal_id, assignment_id=reply.assignment_id, body="区间车已于本月开通。"
    )

    # then the proposal is closed with the new class, and both deputies receive the follow-up
    proposal = proposal_of(reply)
    assert (proposal.status, proposal.outcome_class) == (Status.CLOSED, "A")
    assert proposal.closed_at is not None
    assert (follow_up.kind, follow_up.status, follow_up.outcome_class) == (ReplyKind.FOLLOW_UP, ReplyStatus.SENT, "A")
    assert (follow_up.contact_person, follow_up.contact_phone) == ("刘芳", "13800138001")
    assert told(deputy, "reply.follow_up") == told(cosigner, "reply.follow_up") == 1


def test_follow_up_reply_may_carry_another_class(send_reply: Send, deputy: User, cosigner: User, handler: User) -> None:
    reply = send_reply("C")
    rate(deputy, reply)
    rate(cosigner, reply)

    services.send_follow_up_reply(
        actor=handler,
        proposal_id=reply.proposal_id,
        assignment_id=reply.assignment_id,
        body="已列入明年计划。",
        outcome_class="B",
    )

    assert proposal_of(reply).outcome_class == "B"


def test_only_the_replying_bureau_sends_the_follow_up(
    send_reply: Send, deputy: User, cosigner: User, handler_a: User, handler_c: User
) -> None:
    reply = send_reply("B")
    rate(deputy, reply)
    rate(cosigner, reply)

    for actor in (handler_a, handler_c):
        with pytest.raises(NotAllowed):
            services.send_follow_up_reply(
                actor=actor, proposal_id=reply.proposal_id, assignment_id=reply.assignment_id, body="已解决。"
            )
    assert proposal_of(reply).status == Status.FOLLOW_UP


def test_follow_up_reply_only_in_follow_up(send_reply: Send, handler: User) -> None:
    reply = send_reply("B")  # not rated yet
    with pytest.raises(InvalidTransition):
        services.send_follow_up_reply(
            actor=handler, proposal_id=reply.proposal_id, assignment_id=reply.assignment_id, body="已解决。"
        )


# --- dissatisfaction ------------------------------------------------------------------------


def test_unsatisfied_rating_waits_for_the_office_and_never_closes_by_itself(
    send_reply: Send, deputy: User, cosigner: User, staff: User
) -> None:
    # given a class A reply
    reply = send_reply("A")

    # when the proposer is unsatisfied with the result and the co-signer satisfied
    rate(deputy, reply, result="unsatisfied", comment="站点问题未解决")
    rate(cosigner, reply)

    # then the office is told and the proposal stays replied, although everyone rated
    proposal = proposal_of(reply)
    assert proposal.dissatisfaction_pending
    assert proposal.status == Status.REPLIED
    assert told(staff, "feedback.unsatisfied") == 1


def test_confirmed_dissatisfaction_starts_rehandling_by_the_replying_bureau(
    send_reply: Send, deputy: User, cosigner: User, staff: User, handler: User, handler_a: User, bureau_b: Bureau
) -> None:
    # given the proposer is unsatisfied with a reply of lead B (co-handled by A)
    reply = send_reply("B")
    rate(deputy, reply, result="unsatisfied")

    # when the office confirms
    services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=True, reason="需给出时间表")

    # then the proposal is re-handled in round 2, by bureau B only, with about a month to reply again
    proposal = proposal_of(reply)
    assert (proposal.status, proposal.rehandling_round) == (Status.REHANDLING, 2)
    assert not proposal.dissatisfaction_pending
    again = proposal.assignments.get(round=2)
    assert (again.bureau_id, again.role, again.status) == (bureau_b.pk, AssignmentRole.LEAD, AssignmentStatus.PENDING)
    month_later = workdays.add_months(timezone.localdate(), 1)
    assert month_later <= again.reply_due <= month_later + timedelta(days=10)
    assert proposal.reply_due == again.reply_due
    # and the bureau's handler and both raters are told; the co-handler is not called back
    for person in (handler, deputy, cosigner):
        assert told(person, "proposal.rehandling") == 1
    assert told(handler_a, "proposal.rehandling") == 0
    # and while the bureau works on it again, nobody rates the first round's reply
    with pytest.raises(InvalidTransition):
        rate(cosigner, reply)


def test_rehandling_reply_closes_the_proposal_when_everyone_is_satisfied(
    send_reply: Send, deputy: User, cosigner: User, staff: User, handler: User
) -> None:
    # given re-handling after a confirmed dissatisfaction
    reply = send_reply("B")
    rate(deputy, reply, result="unsatisfied")
    services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=True, reason="需给出时间表")
    again = proposal_of(reply).assignments.get(round=2)
    services.accept_assignment(actor=handler, proposal_id=reply.proposal_id, assignment_id=again.pk)
    second = services.draft_reply(
        actor=handler,
        proposal_id=reply.proposal_id,
        assignment_id=again.pk,
        outcome_class="A",
        body="站点调整已完成。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=reply.proposal_id, assignment_id=again.pk)
    services.review_reply(actor=staff, proposal_id=reply.proposal_id, reply_id=second.pk, approve=True)

    # when both rate the second reply satisfied
    second = Reply.objects.get(pk=second.pk)
    assert (second.kind, second.round) == (ReplyKind.REHANDLING, 2)
    rate(deputy, second)
    rate(cosigner, second)

    # then it is closed with class A
    proposal = proposal_of(reply)
    assert (proposal.status, proposal.outcome_class) == (Status.CLOSED, "A")


def test_rehandling_after_separate_handling_goes_back_to_every_separate_bureau(
    registered: Proposal,
    deputy: User,
    staff: User,
    handler: User,
    handler_c: User,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given 分办 to bureaus B and C, both replied
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    bureaus = (
        (handler, registered.assignments.get(bureau=bureau_b)),
        (handler_c, registered.assignments.get(bureau=bureau_c)),
    )
    for actor, assignment in bureaus:
        services.accept_assignment(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
    replies = []
    for actor, assignment in bureaus:
        reply = services.draft_reply(
            actor=actor,
            proposal_id=registered.pk,
            assignment_id=assignment.pk,
            outcome_class="A",
            body="已解决。",
            contact_person="联系人",
            contact_phone="0571-87654321",
        )
        services.submit_reply(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
        replies.append(reply)
    for reply in replies:
        services.review_reply(actor=staff, proposal_id=registered.pk, reply_id=reply.pk, approve=True)

    # when the deputy is unsatisfied and the office confirms
    rate(deputy, Reply.objects.get(pk=replies[0].pk), result="unsatisfied")
    services.review_dissatisfaction(actor=staff, proposal_id=registered.pk, confirm=True, reason="两局需协同")

    # then both bureaus hold the proposal again, each replying on its own
    again = registered.assignments.filter(round=2)
    assert set(again.values_list("bureau_id", "role")) == {
        (bureau_b.pk, AssignmentRole.SEPARATE),
        (bureau_c.pk, AssignmentRole.SEPARATE),
    }
    assert told(handler, "proposal.rehandling") == told(handler_c, "proposal.rehandling") == 1


def test_dismissed_dissatisfaction_closes_once_everyone_rated(
    send_reply: Send, deputy: User, cosigner: User, staff: User
) -> None:
    # given the proposer is unsatisfied and the co-signer has not rated yet
    reply = send_reply("A")
    rate(deputy, reply, result="unsatisfied")

    # when the office sets the dissatisfaction aside, then the proposal still waits for the co-signer
    services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=False, reason="已充分答复")
    proposal = proposal_of(reply)
    assert (proposal.status, proposal.dissatisfaction_pending, proposal.rehandling_round) == (Status.REPLIED, False, 1)

    # when the co-signer rates, then it closes
    rate(cosigner, reply)
    assert proposal_of(reply).status == Status.CLOSED


def test_dismissed_dissatisfaction_with_everyone_rated_closes_at_once(
    send_reply: Send, deputy: User, cosigner: User, staff: User
) -> None:
    reply = send_reply("A")
    rate(cosigner, reply)
    rate(deputy, reply, result="unsatisfied")

    services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=False, reason="已充分答复")

    assert proposal_of(reply).status == Status.CLOSED


def test_only_the_office_reviews_a_dissatisfaction(send_reply: Send, deputy: User, handler: User) -> None:
    reply = send_reply("A")
    rate(deputy, reply, result="unsatisfied")
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            services.review_dissatisfaction(actor=actor, proposal_id=reply.proposal_id, confirm=False, reason="无")
    assert proposal_of(reply).dissatisfaction_pending


def test_review_of_dissatisfaction_needs_one_pending_and_a_reason(send_reply: Send, deputy: User, staff: User) -> None:
    reply = send_reply("A")
    with pytest.raises(InvalidInput) as nothing:
        services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=True, reason="复查")
    assert nothing.value.code == "nothing_pending"

    rate(deputy, reply, result="unsatisfied")
    with pytest.raises(InvalidInput) as no_reason:
        services.review_dissatisfaction(actor=staff, proposal_id=reply.proposal_id, confirm=True, reason=" ")
    assert no_reason.value.field == "reason"
    assert proposal_of(reply).dissatisfaction_pending


def test_separate_replies_each_need_a_rating_before_the_proposal_closes(
    registered: Proposal,
    deputy: User,
    staff: User,
    handler: User,
    handler_c: User,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given 分办 to bureaus B and C, both replied class A
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    bureaus = (
        (handler, registered.assignments.get(bureau=bureau_b)),
        (handler_c, registered.assignments.get(bureau=bureau_c)),
    )
    for actor, assignment in bureaus:
        services.accept_assignment(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
    replies = []
    for actor, assignment in bureaus:
        reply = services.draft_reply(
            actor=actor,
            proposal_id=registered.pk,
            assignment_id=assignment.pk,
            outcome_class="A",
            body="已解决。",
            contact_person="联系人",
            contact_phone="0571-87654321",
        )
        services.submit_reply(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
        replies.append(reply)
    for reply in replies:
        services.review_reply(actor=staff, proposal_id=registered.pk, reply_id=reply.pk, approve=True)

    # when the proposer rates bureau B's reply only
    rate(deputy, Reply.objects.get(pk=replies[0].pk))

    # then the proposal waits for the rating of bureau C's reply
    assert Proposal.objects.get(pk=registered.pk).status == Status.REPLIED


# --- paper forms ----------------------------------------------------------------------------


def test_office_enters_a_paper_form_marked_as_such(send_reply: Send, deputy: User, cosigner: User, staff: User) -> None:
    # given the co-signer rated online
    reply = send_reply("A")
    rate(cosigner, reply)

    # when the office enters the proposer's paper form
    feedback = services.record_paper_feedback(
        actor=staff,
        proposal_id=reply.proposal_id,
        reply_id=reply.pk,
        rater_id=deputy.pk,
        contact="satisfied",
        attitude="basically",
        result="satisfied",
    )

    # then it is the proposer's rating, entered by the office, from paper; and it completes the feedback
    assert (feedback.rater_id, feedback.entered_by_id, feedback.on_paper) == (deputy.pk, staff.pk, True)
    assert proposal_of(reply).status == Status.CLOSED


def test_only_the_office_enters_paper_forms(send_reply: Send, deputy: User, handler: User) -> None:
    reply = send_reply("A")
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            services.record_paper_feedback(
                actor=actor,
                proposal_id=reply.proposal_id,
                reply_id=reply.pk,
                rater_id=deputy.pk,
                contact="satisfied",
                attitude="satisfied",
                result="satisfied",
            )
    assert not Feedback.objects.exists()


def test_paper_form_only_for_a_proposer_or_cosigner(send_reply: Send, staff: User, handler: User) -> None:
    reply = send_reply("A")
    with pytest.raises(NotAllowed):
        services.record_paper_feedback(
            actor=staff,
            proposal_id=reply.proposal_id,
            reply_id=reply.pk,
            rater_id=handler.pk,
            contact="satisfied",
            attitude="satisfied",
            result="satisfied",
        )


def test_paper_form_after_an_online_rating_is_refused(send_reply: Send, deputy: User, staff: User) -> None:
    reply = send_reply("A")
    rate(deputy, reply, result="basically")
    with pytest.raises(InvalidInput) as refused:
        services.record_paper_feedback(
            actor=staff,
            proposal_id=reply.proposal_id,
            reply_id=reply.pk,
            rater_id=deputy.pk,
            contact="satisfied",
            attitude="satisfied",
            result="satisfied",
        )
    assert refused.value.code == "already_done"


# --- close -------------------------------------------------------------------------


def test_office_closes_a_replied_proposal_without_every_rating(send_reply: Send, deputy: User, staff: User) -> None:
    # given only the proposer rated, when the feedback period ends and the office closes
    reply = send_reply("A")
    rate(deputy, reply)
    services.close(actor=staff, proposal_id=reply.proposal_id, reason="反馈期已满")

    proposal = proposal_of(reply)
    assert proposal.status == Status.CLOSED
    assert proposal.closed_at is not None
    assert proposal.events.get(action="close").reason == "反馈期已满"


def test_office_closes_a_follow_up(send_reply: Send, deputy: User, cosigner: User, staff: User) -> None:
    reply = send_reply("C")
    rate(deputy, reply)
    rate(cosigner, reply)

    services.close(actor=staff, proposal_id=reply.proposal_id, reason="条件暂不具备，跟踪结束")

    assert proposal_of(reply).status == Status.CLOSED


def test_office_cannot_close_while_a_dissatisfaction_waits(send_reply: Send, deputy: User, staff: User) -> None:
    reply = send_reply("A")
    rate(deputy, reply, result="unsatisfied")

    with pytest.raises(InvalidInput) as refused:
        services.close(actor=staff, proposal_id=reply.proposal_id, reason="反馈期已满")
    assert refused.value.code == "dissatisfaction_pending"
    assert proposal_of(reply).status == Status.REPLIED


def test_only_the_office_closes(send_reply: Send, deputy: User, handler: User) -> None:
    reply = send_reply("A")
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            services.close(actor=actor, proposal_id=reply.proposal_id, reason="已办结")
    assert proposal_of(reply).status == Status.REPLIED


def test_proposal_in_handling_cannot_be_closed(assigned: Proposal, staff: User) -> None:
    with pytest.raises(InvalidTransition):
        services.close(actor=staff, proposal_id=assigned.pk, reason="已办结")
