"""The whole statutory cycle through the services, as the issue's browser journey walks it."""

from __future__ import annotations

from consult.models import Notification, User
from proposals import services
from proposals.access import timeline_for
from proposals.models import Proposal, Status
from tests.proposals.conftest import co_of, content, lead_of


def test_the_whole_cycle_with_cosigner_opinion_class_b_unsatisfied_rehandling_and_satisfied(
    deputy: User, cosigner: User, staff: User, handler: User, handler_a: User, npc_session, bureau_a, bureau_b
) -> None:
    # 提出 with a co-signer
    proposal = services.create_draft(actor=deputy, content=content())
    services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
    services.submit(actor=deputy, proposal_id=proposal.pk)
    # 立案, 交办
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    proposal.refresh_from_db()
    lead, co = lead_of(proposal), co_of(proposal)
    assert proposal.code == "2027-建-0001"
    assert proposal.reply_due == lead.reply_due
    # 办理: accept, communicate, co-handler opinion
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.accept_assignment(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk)
    services.record_communication(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        channel="phone",
        occurred_on=lead.assigned_at.date(),
        summary="电话联系王建国代表，了解线路需求。",
    )
    services.submit_opinion(actor=handler_a, proposal_id=proposal.pk, assignment_id=co.pk, body="同意增开区间车。")
    # 答复 class B, 会签, 督办 review
    reply = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        outcome_class="B",
        body="一是已将区间车列入今年计划；二是站点优化正在论证。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.sign_off_reply(actor=handler_a, proposal_id=proposal.pk, reply_id=reply.pk, assignment_id=co.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.outcome_class, proposal.replied_on_time) == (Status.REPLIED, "B", True)
    # 反馈: the co-signer is satisfied, the deputy is not; the office confirms → 重新办理
    services.rate_reply(
        actor=cosigner,
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result="basically",
    )
    services.rate_reply(
        actor=deputy,
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result="unsatisfied",
        comment="站点问题未解决",
    )
    services.review_dissatisfaction(actor=staff, proposal_id=proposal.pk, confirm=True, reason="站点优化需给出时间表")
    proposal.refresh_from_db()
    second_lead = lead_of(proposal)
    assert proposal.status == Status.REHANDLING
    assert proposal.rehandling_round == 2
    assert second_lead.round == 2
    assert second_lead.reply_due is not None
    assert proposal.reply_due == second_lead.reply_due
    # the second reply, rated 满意 by both
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=second_lead.pk)
    second = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=second_lead.pk,
        outcome_class="A",
        body="站点调整已于本月完成。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=second_lead.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=second.pk, approve=True)
    for rater in (deputy, cosigner):
        services.rate_reply(
            actor=rater,
            proposal_id=proposal.pk,
            reply_id=second.pk,
            contact="satisfied",
            attitude="satisfied",
            result="satisfied",
        )

    proposal = Proposal.objects.get(pk=proposal.pk)
    assert proposal.status == Status.CLOSED
    assert proposal.outcome_class == "A"
    timeline = [e.action for e in timeline_for(deputy, proposal)]
    assert timeline[:3] == ["create_draft", "invite_cosigner", "cosign"]
    assert "start_rehandling" in timeline
    assert timeline[-1] == "close"
    assert "submit_opinion" not in timeline  # bureaus' internal notes stay internal
    assert Notification.objects.filter(user=cosigner, kind="reply.sent").count() == 2
