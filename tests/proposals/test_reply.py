"""答复: drafting, submitting, 会签 by co-handlers, the office's review, sending and publication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import Bureau, Notification, User
from proposals import services
from proposals.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    Proposal,
    Reply,
    ReplySignoff,
    ReplyStatus,
    Status,
)
from tests.factories import DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of

BODY = "一是已将区间车列入今年计划；二是站点优化正在论证。"


@pytest.fixture
def handling(assigned: Proposal, handler: User, handler_a: User) -> Proposal:
    """Both bureaus accepted: lead bureau B (``handler``), co-handling bureau A (``handler_a``)."""
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)
    services.accept_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk)
    return Proposal.objects.get(pk=assigned.pk)


@pytest.fixture
def opinion_given(handling: Proposal, handler_a: User) -> Proposal:
    services.submit_opinion(actor=handler_a, proposal_id=handling.pk, assignment_id=co_of(handling).pk, body="同意。")
    return handling


@pytest.fixture
def lead_only(registered: Proposal, staff: User, handler: User, bureau_b: Bureau) -> Proposal:
    """Assigned to bureau B alone, accepted: nobody to sign off."""
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=lead_of(registered).pk)
    return Proposal.objects.get(pk=registered.pk)


@pytest.fixture
def separate(
    registered: Proposal, staff: User, handler: User, handler_c: User, bureau_b: Bureau, bureau_c: Bureau
) -> Proposal:
    """分办 to bureaus B and C, both accepted: each replies on its own."""
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    for actor, bureau in ((handler, bureau_b), (handler_c, bureau_c)):
        assignment = registered.assignments.get(bureau=bureau)
        services.accept_assignment(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
    return Proposal.objects.get(pk=registered.pk)


def draft(actor: User, proposal: Proposal, assignment: Assignment, **overrides: str) -> Reply:
    values = {"outcome_class": "B", "body": BODY, "contact_person": "刘芳", "contact_phone": "13800138001"}
    values.update(overrides)
    return services.draft_reply(actor=actor, proposal_id=proposal.pk, assignment_id=assignment.pk, **values)


def submit(actor: User, proposal: Proposal, assignment: Assignment) -> Reply:
    return services.submit_reply(actor=actor, proposal_id=proposal.pk, assignment_id=assignment.pk)


def reply_of(actor: User, proposal: Proposal, assignment: Assignment, **overrides: str) -> Reply:
    """Draft and submit in one go (for a proposal whose co-handlers already gave their opinions)."""
    reply = draft(actor, proposal, assignment, **overrides)
    submit(actor, proposal, assignment)
    return Reply.objects.get(pk=reply.pk)


def approve(staff: User, proposal: Proposal, reply: Reply, outcome_class: str = "") -> Reply:
    return services.review_reply(
        actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True, outcome_class=outcome_class
    )


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


# --- draft_reply ----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome_class", ["A", "B", "C", "D"])
def test_lead_drafts_a_reply_of_each_class(opinion_given: Proposal, handler: User, outcome_class: str) -> None:
    reply = draft(handler, opinion_given, lead_of(opinion_given), outcome_class=outcome_class)

    stored = Reply.objects.get(pk=reply.pk)
    assert (stored.status, stored.outcome_class, stored.drafted_class) == (
        ReplyStatus.DRAFT,
        outcome_class,
        outcome_class,
    )
    assert (stored.contact_person, stored.contact_phone, stored.drafted_by_id) == ("刘芳", "13800138001", handler.pk)


@pytest.mark.parametrize("outcome_class", ["E", "a", ""])
def test_draft_with_an_unknown_class_is_refused(handling: Proposal, handler: User, outcome_class: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(handler, handling, lead_of(handling), outcome_class=outcome_class)
    assert refused.value.field == "outcome_class"
    assert not Reply.objects.exists()


@pytest.mark.parametrize("field", ["body", "contact_person", "contact_phone"])
def test_draft_without_a_required_field_is_refused_naming_it(handling: Proposal, handler: User, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        draft(handler, handling, lead_of(handling), **{field: "  "})
    assert refused.value.field == field
    assert not Reply.objects.exists()


def test_drafting_again_rewrites_the_same_draft(handling: Proposal, handler: User) -> None:
    first = draft(handler, handling, lead_of(handling), outcome_class="C")
    second = draft(handler, handling, lead_of(handling), outcome_class="A", body="已完成站点调整。")

    assert first.pk == second.pk
    assert Reply.objects.get().outcome_class == "A"


def test_co_handler_cannot_draft_the_reply(handling: Proposal, handler_a: User) -> None:
    with pytest.raises(NotAllowed):
        draft(handler_a, handling, co_of(handling))
    assert not Reply.objects.exists()


def test_another_bureau_cannot_draft_the_leads_reply(handling: Proposal, handler_c: User) -> None:
    with pytest.raises(NotAllowed):
        draft(handler_c, handling, lead_of(handling))


def test_reply_is_drafted_only_once_the_lead_accepted(assigned: Proposal, handler: User) -> None:
    with pytest.raises(InvalidTransition):
        draft(handler, assigned, lead_of(assigned))


# --- submit_reply ---------------------------------------------------------------------------


def test_submitted_reply_with_open_co_handlers_awaits_their_signoff(
    opinion_given: Proposal, handler: User, handler_a: User, staff: User
) -> None:
    # given the co-handler gave its opinion, when the lead submits
    reply = reply_of(handler, opinion_given, lead_of(opinion_given))

    # then the reply awaits the co-handler's signature, who is told; the office not yet
    assert reply.status == ReplyStatus.SIGNOFF
    assert reply.submitted_at is not None
    assert fresh(opinion_given).status == Status.REPLY_REVIEW
    assert Notification.objects.filter(user=handler_a, kind="reply.signoff").exists()
    assert not Notification.objects.filter(user=staff, kind="reply.review").exists()


def test_submitted_reply_without_co_handlers_goes_to_review(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = reply_of(handler, lead_only, lead_of(lead_only))

    assert reply.status == ReplyStatus.REVIEW
    assert fresh(lead_only).status == Status.REPLY_REVIEW
    assert Notification.objects.filter(user=staff, kind="reply.review").exists()


def test_reply_cannot_be_submitted_before_it_is_drafted(lead_only: Proposal, handler: User) -> None:
    with pytest.raises(InvalidTransition):
        submit(handler, lead_only, lead_of(lead_only))


def test_reply_waits_for_a_missing_opinion_while_the_opinion_is_not_yet_due(handling: Proposal, handler: User) -> None:
    # given the co-handler has not given its opinion and its opinion is due in a month
    draft(handler, handling, lead_of(handling))

    # when the lead submits, then it is refused naming the co-handler
    with pytest.raises(InvalidInput) as refused:
        submit(handler, handling, lead_of(handling))
    assert refused.value.code == "opinions_missing"
    assert "市教委" in refused.value.message
    assert Reply.objects.get().status == ReplyStatus.DRAFT
    assert fresh(handling).status == Status.HANDLING


def test_reply_waits_for_an_opinion_due_today(handling: Proposal, handler: User) -> None:
    Assignment.objects.filter(pk=co_of(handling).pk).update(opinion_due=timezone.localdate())
    draft(handler, handling, lead_of(handling))

    with pytest.raises(InvalidInput) as refused:
        submit(handler, handling, lead_of(handling))
    assert refused.value.code == "opinions_missing"


def test_reply_goes_ahead_once_the_missing_opinion_is_overdue(handling: Proposal, handler: User) -> None:
    # given the co-handler's opinion was due yesterday and never came
    Assignment.objects.filter(pk=co_of(handling).pk).update(opinion_due=timezone.localdate() - timedelta(days=1))
    draft(handler, handling, lead_of(handling))

    # when the lead submits, then it is accepted (the co-handler still signs off)
    assert submit(handler, handling, lead_of(handling)).status == ReplyStatus.SIGNOFF


def test_rule_communication_required_blocks_the_reply_until_the_bureau_talked_to_the_deputy(
    settings: Settings, lead_only: Proposal, handler: User
) -> None:
    # given a deployment that requires contact before replying
    settings.PROPOSAL_RULES = {"communication_required": True}
    lead = lead_of(lead_only)
    draft(handler, lead_only, lead)

    # when the lead submits without a communication record, then it is refused
    with pytest.raises(InvalidInput) as refused:
        submit(handler, lead_only, lead)
    assert refused.value.code == "communication_required"
    assert Reply.objects.get().status == ReplyStatus.DRAFT

    # and after recording a call it goes through
    services.record_communication(
        actor=handler,
        proposal_id=lead_only.pk,
        assignment_id=lead.pk,
        channel=Channel.PHONE,
        occurred_on=timezone.localdate(),
        summary="电话沟通答复思路。",
    )
    assert submit(handler, lead_only, lead).status == ReplyStatus.REVIEW


def test_without_the_rule_a_reply_needs_no_communication(lead_only: Proposal, handler: User) -> None:
    assert reply_of(handler, lead_only, lead_of(lead_only)).status == ReplyStatus.REVIEW


def test_co_handler_cannot_submit_the_reply(opinion_given: Proposal, handler: User, handler_a: User) -> None:
    draft(handler, opinion_given, lead_of(opinion_given))
    with pytest.raises(NotAllowed):
        submit(handler_a, opinion_given, lead_of(opinion_given))


# --- sign_off_reply -------------------------------------------------------------------------


def test_reply_goes_to_review_once_every_co_handler_signed(
    registered: Proposal,
    staff: User,
    handler: User,
    handler_a: User,
    handler_c: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given lead B with co-handlers A and C, whose opinions are in, and the lead's reply submitted
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk, bureau_c.pk])
    co_a, co_c = registered.assignments.get(bureau=bureau_a), registered.assignments.get(bureau=bureau_c)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=lead_of(registered).pk)
    for actor, co in ((handler_a, co_a), (handler_c, co_c)):
        services.submit_opinion(actor=actor, proposal_id=registered.pk, assignment_id=co.pk, body="同意。")
    reply = reply_of(handler, registered, lead_of(registered))

    # when bureau A signs, then the reply still waits for bureau C
    services.sign_off_reply(actor=handler_a, proposal_id=registered.pk, reply_id=reply.pk, assignment_id=co_a.pk)
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.SIGNOFF
    assert not Notification.objects.filter(user=staff, kind="reply.review").exists()
    # and bureau A cannot sign twice
    with pytest.raises(InvalidInput) as refused:
        services.sign_off_reply(actor=handler_a, proposal_id=registered.pk, reply_id=reply.pk, assignment_id=co_a.pk)
    assert refused.value.code == "already_done"

    # when bureau C signs too, then the reply goes to the office
    services.sign_off_reply(
        actor=handler_c, proposal_id=registered.pk, reply_id=reply.pk, assignment_id=co_c.pk, comment="无意见"
    )
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.REVIEW
    assert ReplySignoff.objects.filter(reply=reply).count() == 2
    assert Notification.objects.filter(user=staff, kind="reply.review").exists()


def test_lead_bureau_does_not_sign_its_own_reply(opinion_given: Proposal, handler: User) -> None:
    reply = reply_of(handler, opinion_given, lead_of(opinion_given))
    with pytest.raises(NotAllowed):
        services.sign_off_reply(
            actor=handler, proposal_id=opinion_given.pk, reply_id=reply.pk, assignment_id=lead_of(opinion_given).pk
        )


def test_another_bureau_cannot_sign_for_the_co_handler(opinion_given: Proposal, handler: User, handler_c: User) -> None:
    reply = reply_of(handler, opinion_given, lead_of(opinion_given))
    with pytest.raises(NotAllowed):
        services.sign_off_reply(
            actor=handler_c, proposal_id=opinion_given.pk, reply_id=reply.pk, assignment_id=co_of(opinion_given).pk
        )
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.SIGNOFF


# --- review_reply ---------------------------------------------------------------------------


def test_office_sends_the_reply_with_a_changed_class_keeping_the_bureaus_own(
    opinion_given: Proposal, handler: User, handler_a: User, staff: User
) -> None:
    # given the lead's class B reply, signed by the co-handler
    reply = reply_of(handler, opinion_given, lead_of(opinion_given), outcome_class="B")
    co = co_of(opinion_given)
    services.sign_off_reply(actor=handler_a, proposal_id=opinion_given.pk, reply_id=reply.pk, assignment_id=co.pk)

    # when the office approves it as class A
    approve(staff, opinion_given, reply, outcome_class="A")

    # then the reply and the proposal carry class A, the bureau's own B is kept
    sent = Reply.objects.get(pk=reply.pk)
    assert (sent.status, sent.outcome_class, sent.drafted_class, sent.reviewed_by_id) == (
        ReplyStatus.SENT,
        "A",
        "B",
        staff.pk,
    )
    assert sent.sent_at is not None
    proposal = fresh(opinion_given)
    assert (proposal.status, proposal.outcome_class, proposal.replied_on_time) == (Status.REPLIED, "A", True)
    assert proposal.first_replied_at is not None
    assert proposal.reply_due is None
    # and both bureaus are done
    assert set(proposal.assignments.values_list("status", flat=True)) == {AssignmentStatus.DONE}
    assert Assignment.objects.get(pk=co.pk).status == AssignmentStatus.DONE


def test_office_sends_the_reply_keeping_the_class_when_none_is_given(
    lead_only: Proposal, handler: User, staff: User
) -> None:
    reply = reply_of(handler, lead_only, lead_of(lead_only), outcome_class="C")
    approve(staff, lead_only, reply)

    sent = Reply.objects.get(pk=reply.pk)
    assert (sent.outcome_class, sent.drafted_class) == ("C", "C")
    assert fresh(lead_only).outcome_class == "C"


def test_office_cannot_send_with_an_unknown_class(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = reply_of(handler, lead_only, lead_of(lead_only))
    with pytest.raises(InvalidInput) as refused:
        approve(staff, lead_only, reply, outcome_class="E")
    assert refused.value.field == "outcome_class"
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.REVIEW


def test_only_the_office_reviews_a_reply(lead_only: Proposal, handler: User, deputy: User) -> None:
    reply = reply_of(handler, lead_only, lead_of(lead_only))
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            approve(actor, lead_only, reply)
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.REVIEW


def test_reply_awaiting_signoff_cannot_be_sent_yet(opinion_given: Proposal, handler: User, staff: User) -> None:
    reply = reply_of(handler, opinion_given, lead_of(opinion_given))
    with pytest.raises(InvalidTransition):  # the reply exists; its state does not allow this yet
        approve(staff, opinion_given, reply)


def test_office_returns_the_reply_to_the_bureau_clearing_the_signoffs(
    opinion_given: Proposal, handler: User, handler_a: User, staff: User
) -> None:
    # given a signed reply under review
    reply = reply_of(handler, opinion_given, lead_of(opinion_given))
    co = co_of(opinion_given)
    services.sign_off_reply(actor=handler_a, proposal_id=opinion_given.pk, reply_id=reply.pk, assignment_id=co.pk)

    # when the office returns it
    services.review_reply(
        actor=staff, proposal_id=opinion_given.pk, reply_id=reply.pk, approve=False, note="请补充站点论证进度"
    )

    # then the reply is a draft again, the proposal is back in handling, the signatures are gone
    returned = Reply.objects.get(pk=reply.pk)
    assert (returned.status, returned.review_note) == (ReplyStatus.DRAFT, "请补充站点论证进度")
    assert fresh(opinion_given).status == Status.HANDLING
    assert not ReplySignoff.objects.filter(reply=reply).exists()
    assert Notification.objects.filter(user=handler, kind="reply.returned").exists()
    # and the revised reply needs the co-handler's signature again
    again = reply_of(handler, opinion_given, lead_of(opinion_given), body=BODY + "三是站点论证将于年底完成。")
    assert (again.pk, again.status) == (reply.pk, ReplyStatus.SIGNOFF)


def test_sent_reply_reaches_the_proposer_signed_cosigners_and_merged_proposers(
    deputy: User, cosigner: User, staff: User, handler: User, npc_session, bureau_b: Bureau
) -> None:
    # given a proposal signed by one deputy and declined by another, and a second proposal merged into it
    decliner = DeputyProfileFactory(user__username="decliner", user__full_name="钱进").user
    merged_proposer = DeputyProfileFactory(user__username="merged", user__full_name="吴海").user
    proposal = services.create_draft(actor=deputy, content=content())
    for invitee in (cosigner, decliner):
        services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=invitee.pk)
    services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
    services.cosign(actor=decliner, proposal_id=proposal.pk, sign=False)
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)
    other = services.create_draft(actor=merged_proposer, content=content(title="关于翠湖新村增设公交站点的建议"))
    services.submit(actor=merged_proposer, proposal_id=other.pk)
    services.merge(actor=staff, proposal_id=other.pk, into_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk)
    lead = lead_of(proposal)
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    reply = reply_of(handler, proposal, lead)

    # when the office sends the reply
    approve(staff, proposal, reply)

    # then the proposer, the signed co-signer and the merged proposal's proposer receive it; nobody else
    receivers = set(Notification.objects.filter(kind="reply.sent").values_list("user_id", flat=True))
    assert receivers == {deputy.pk, cosigner.pk, merged_proposer.pk}
    assert decliner.pk not in receivers


def test_separate_bureaus_each_reply_and_the_proposal_is_replied_after_both(
    separate: Proposal, handler: User, handler_c: User, staff: User, deputy: User, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    # given 分办: bureau B and bureau C both hold the proposal, without co-handlers to sign
    mine, theirs = separate.assignments.get(bureau=bureau_b), separate.assignments.get(bureau=bureau_c)
    first = reply_of(handler, separate, mine, outcome_class="B")
    assert first.status == ReplyStatus.REVIEW

    # when the office sends bureau B's reply
    approve(staff, separate, first)

    # then the deputy has bureau B's reply but the proposal is not replied yet: bureau C still owes one
    proposal = fresh(separate)
    assert proposal.status != Status.REPLIED
    assert proposal.first_replied_at is None
    assert Assignment.objects.get(pk=theirs.pk).status == AssignmentStatus.ACCEPTED
    assert Notification.objects.filter(user=deputy, kind="reply.sent").count() == 1

    # when bureau C replies and the office sends it
    second = reply_of(handler_c, separate, theirs, outcome_class="A")
    approve(staff, separate, second)

    # then both replies stand side by side and the proposal is replied
    proposal = fresh(separate)
    assert proposal.status == Status.REPLIED
    assert proposal.first_replied_at is not None
    assert proposal.replied_on_time is True
    assert set(proposal.replies.values_list("assignment__bureau__name", "outcome_class")) == {
        ("市交通委", "B"),
        ("市发展改革委", "A"),
    }
    assert Notification.objects.filter(user=deputy, kind="reply.sent").count() == 2


def test_reply_sent_after_the_deadline_is_not_on_time(lead_only: Proposal, handler: User, staff: User) -> None:
    # given the lead's deadline passed yesterday
    yesterday = timezone.localdate() - timedelta(days=1)
    Assignment.objects.filter(pk=lead_of(lead_only).pk).update(reply_due=yesterday)
    Proposal.objects.filter(pk=lead_only.pk).update(reply_due=yesterday)
    reply = reply_of(handler, lead_only, lead_of(lead_only))

    # when the office sends the reply today
    approve(staff, lead_only, reply)

    # then it counts as late
    proposal = fresh(lead_only)
    assert proposal.status == Status.REPLIED
    assert proposal.replied_on_time is False


def test_reply_sent_on_the_due_day_is_on_time(lead_only: Proposal, handler: User, staff: User) -> None:
    Assignment.objects.filter(pk=lead_of(lead_only).pk).update(reply_due=timezone.localdate())
    approve(staff, lead_only, reply_of(handler, lead_only, lead_of(lead_only)))

    assert fresh(lead_only).replied_on_time is True


def test_one_late_separate_bureau_makes_the_proposal_late(
    separate: Proposal, handler: User, handler_c: User, staff: User, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    # given bureau B is on time and bureau C's deadline passed
    mine, theirs = separate.assignments.get(bureau=bureau_b), separate.assignments.get(bureau=bureau_c)
    Assignment.objects.filter(pk=theirs.pk).update(reply_due=timezone.localdate() - timedelta(days=3))

    # when both replies are sent
    approve(staff, separate, reply_of(handler, separate, mine))
    approve(staff, separate, reply_of(handler_c, separate, theirs))

    # then the proposal was not replied on time
    assert fresh(separate).replied_on_time is False


def test_returning_one_separate_reply_leaves_the_other_reviewable(
    separate: Proposal, handler: User, handler_c: User, staff: User, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    # given both separate bureaus submitted their replies
    mine, theirs = separate.assignments.get(bureau=bureau_b), separate.assignments.get(bureau=bureau_c)
    first = reply_of(handler, separate, mine)
    second = reply_of(handler_c, separate, theirs)

    # when the office returns bureau B's reply
    services.review_reply(actor=staff, proposal_id=separate.pk, reply_id=first.pk, approve=False, note="请修改")

    # then bureau C's reply, still under review, can be sent
    approve(staff, separate, second)
    assert Reply.objects.get(pk=second.pk).status == ReplyStatus.SENT


def test_separate_bureau_accepts_while_the_other_bureaus_reply_is_under_review(
    registered: Proposal, staff: User, handler: User, handler_c: User, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    # given 分办, bureau B accepted and already submitted its reply
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    mine, theirs = registered.assignments.get(bureau=bureau_b), registered.assignments.get(bureau=bureau_c)
    services.accept_assignment(actor=handler, proposal_id=registered.pk, assignment_id=mine.pk)
    reply_of(handler, registered, mine)

    # when bureau C accepts its own assignment, then it may
    services.accept_assignment(actor=handler_c, proposal_id=registered.pk, assignment_id=theirs.pk)
    assert Assignment.objects.get(pk=theirs.pk).status == AssignmentStatus.ACCEPTED


# --- publish --------------------------------------------------------------------------


@pytest.fixture
def replied(lead_only: Proposal, handler: User, staff: User) -> Reply:
    """A sent reply whose text carries the bureau's contact details."""
    reply = reply_of(handler, lead_only, lead_of(lead_only), body="已列入计划。联系电话13800138000，邮箱a@b.cn")
    return approve(staff, lead_only, reply)


def test_published_reply_carries_no_phone_numbers_or_emails(replied: Reply, staff: User) -> None:
    # when the office publishes the reply
    published = services.publish(actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk)

    # then the published text hides the phone and the email, and the proposal is marked published
    text = Reply.objects.get(pk=published.pk).public_body
    assert "【已隐去】" in text
    assert "13800138000" not in text
    assert "a@b.cn" not in text
    assert text.startswith("已列入计划。联系电话【已隐去】")
    assert Proposal.objects.get(pk=replied.proposal_id).published_at is not None


def test_office_may_publish_its_own_edited_text_still_stripped(replied: Reply, staff: User) -> None:
    published = services.publish(
        actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk, public_body="已列入计划，咨询0571-87654321。"
    )
    assert published.public_body == "已列入计划，咨询【已隐去】。"


def test_published_reply_keeps_the_words_before_an_email(replied: Reply, staff: User) -> None:
    published = services.publish(actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk)
    assert published.public_body.endswith("邮箱【已隐去】")


def test_published_reply_is_seen_by_other_deputies(replied: Reply, staff: User) -> None:
    # given another deputy who neither proposed nor co-signed
    other = DeputyProfileFactory(user__username="other", user__full_name="郑伟").user
    assert not Proposal.objects.visible_to(other).filter(pk=replied.proposal_id).exists()

    # when the office publishes, then the other deputy can see the proposal
    services.publish(actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk)
    assert Proposal.objects.visible_to(other).filter(pk=replied.proposal_id).exists()


def test_reply_is_not_published_without_the_proposers_consent(replied: Reply, staff: User, deputy: User) -> None:
    # given the proposer did not agree to publication
    Proposal.objects.filter(pk=replied.proposal_id).update(
        publication_consent=False, publication_refusal_reason="涉及个人隐私"
    )

    # when the office tries to publish, then it is refused and nothing is published
    with pytest.raises(InvalidInput) as refused:
        services.publish(actor=staff, proposal_id=replied.proposal_id, reply_id=replied.pk)
    assert refused.value.code == "no_consent"
    assert Reply.objects.get(pk=replied.pk).public_body == ""
    assert Proposal.objects.get(pk=replied.proposal_id).published_at is None


def test_only_the_office_publishes(replied: Reply, handler: User, deputy: User) -> None:
    for actor in (handler, deputy):
        with pytest.raises(NotAllowed):
            services.publish(actor=actor, proposal_id=replied.proposal_id, reply_id=replied.pk)
    assert Proposal.objects.get(pk=replied.proposal_id).published_at is None


def test_reply_is_published_only_once_sent(lead_only: Proposal, handler: User, staff: User) -> None:
    reply = reply_of(handler, lead_only, lead_of(lead_only))
    with pytest.raises(InvalidTransition):
        services.publish(actor=staff, proposal_id=lead_only.pk, reply_id=reply.pk)
