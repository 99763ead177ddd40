"""办理统计: 办复率, 按时办复率, 沟通率, 满意率 and the class distribution, overall and per bureau.

A small known set, driven through the services:

=====  ========  =============  ========  ==========  ==============================
 #     bureau    communicated   reply     on time     ratings of the result
=====  ========  =============  ========  ==========  ==============================
 P1    B         yes            A         yes         proposer 满意
 P2    B         yes            B         no          proposer 基本满意
 P3    C         no             B         yes         proposer 满意, co-signer 不满意
 P4    C         no             (none)    -           -
=====  ========  =============  ========  ==========  ==============================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from consult.models import Bureau, User
from proposals import metrics, services
from proposals.models import Assignment, Channel, Proposal, ProposalSession, Reply
from tests.proposals.conftest import content, lead_of

NO_CLASSES = {"A": 0, "B": 0, "C": 0, "D": 0}


@dataclass
class Cycle:
    """What the office and one lead bureau do with one proposal."""

    staff: User

    def assign(self, proposer: User, bureau: Bureau, *, cosigner: User | None = None, title: str) -> Proposal:
        proposal = services.create_draft(actor=proposer, content=content(title=title))
        if cosigner is not None:
            services.invite_cosigner(actor=proposer, proposal_id=proposal.pk, deputy_id=cosigner.pk)
            services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
        services.submit(actor=proposer, proposal_id=proposal.pk)
        services.register(actor=self.staff, proposal_id=proposal.pk)
        services.assign(actor=self.staff, proposal_id=proposal.pk, lead=bureau.pk)
        return proposal

    def reply(
        self, proposal: Proposal, handler: User, outcome_class: str, *, talk: bool = False, late: bool = False
    ) -> Reply:
        lead = lead_of(proposal)
        services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
        if talk:
            services.record_communication(
                actor=handler,
                proposal_id=proposal.pk,
                assignment_id=lead.pk,
                channel=Channel.PHONE,
                occurred_on=timezone.localdate(),
                summary="电话沟通办理思路。",
            )
        if late:
            Assignment.objects.filter(pk=lead.pk).update(reply_due=timezone.localdate() - timedelta(days=1))
        reply = services.draft_reply(
            actor=handler,
            proposal_id=proposal.pk,
            assignment_id=lead.pk,
            outcome_class=outcome_class,
            body="答复正文。",
            contact_person="联系人",
            contact_phone="0571-87654321",
        )
        services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
        return services.review_reply(actor=self.staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)


def rate(rater: User, reply: Reply, result: str) -> None:
    services.rate_reply(
        actor=rater,
        proposal_id=reply.proposal_id,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result=result,
        comment="答复未给出时间表" if result == "unsatisfied" else "",
    )


@pytest.fixture
def known_set(
    npc_session: ProposalSession,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    handler_c: User,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    cycle = Cycle(staff)
    p1 = cycle.assign(deputy, bureau_b, title="关于增开东湖区区间车的建议")
    p2 = cycle.assign(deputy, bureau_b, title="关于优化翠湖新村公交站点的建议")
    p3 = cycle.assign(deputy, bureau_c, cosigner=cosigner, title="关于东湖区停车场规划的建议")
    cycle.assign(deputy, bureau_c, title="关于东湖区充电桩布局的建议")
    # and one registered but never assigned: it reached no bureau, so it counts nowhere
    unassigned = services.create_draft(actor=deputy, content=content(title="关于老旧小区加装电梯的建议"))
    services.submit(actor=deputy, proposal_id=unassigned.pk)
    services.register(actor=staff, proposal_id=unassigned.pk)

    rate(deputy, cycle.reply(p1, handler, "A", talk=True), "satisfied")
    rate(deputy, cycle.reply(p2, handler, "B", talk=True, late=True), "basically")
    third = cycle.reply(p3, handler_c, "B")
    rate(deputy, third, "satisfied")
    rate(cosigner, third, "unsatisfied")


def test_overall_figures_of_a_known_set(known_set: None, npc_session: ProposalSession) -> None:
    figures = metrics.overall(Proposal.objects.filter(session=npc_session))

    assert (figures.assigned, figures.replied, figures.on_time, figures.communicated) == (4, 3, 2, 2)
    assert (figures.ratings, figures.satisfied) == (4, 3)
    assert figures.reply_rate == 0.75
    assert figures.on_time_rate == 0.6667
    assert figures.communication_rate == 0.6667
    assert figures.satisfaction_rate == 0.75
    assert figures.classes == {"A": 1, "B": 2, "C": 0, "D": 0}


def test_per_bureau_figures_of_a_known_set(
    known_set: None, npc_session: ProposalSession, bureau_b: Bureau, bureau_c: Bureau
) -> None:
    rows = {row.bureau_id: row for row in metrics.per_bureau(Proposal.objects.filter(session=npc_session))}

    assert set(rows) == {bureau_b.pk, bureau_c.pk}
    b, c = rows[bureau_b.pk], rows[bureau_c.pk]
    assert (b.bureau_name, c.bureau_name) == ("市交通委", "市发展改革委")
    # bureau B: both replied, one late, both after talking to the deputy, both rated well
    assert (b.figures.assigned, b.figures.replied, b.figures.on_time, b.figures.communicated) == (2, 2, 1, 2)
    assert (b.figures.reply_rate, b.figures.on_time_rate, b.figures.communication_rate) == (1.0, 0.5, 1.0)
    assert (b.figures.ratings, b.figures.satisfied, b.figures.satisfaction_rate) == (2, 2, 1.0)
    assert b.figures.classes == {"A": 1, "B": 1, "C": 0, "D": 0}
    # bureau C: one of two replied, on time, without talking; one of its two ratings is unsatisfied
    assert (c.figures.assigned, c.figures.replied, c.figures.on_time, c.figures.communicated) == (2, 1, 1, 0)
    assert (c.figures.reply_rate, c.figures.on_time_rate, c.figures.communication_rate) == (0.5, 1.0, 0.0)
    assert (c.figures.ratings, c.figures.satisfied, c.figures.satisfaction_rate) == (2, 1, 0.5)
    assert c.figures.classes == {"A": 0, "B": 1, "C": 0, "D": 0}


def test_figures_of_nothing_have_no_rates(db: None) -> None:
    figures = metrics.overall(Proposal.objects.none())

    assert (figures.assigned, figures.replied, figures.ratings) == (0, 0, 0)
    assert figures.reply_rate is None
    assert figures.on_time_rate is None
    assert figures.communication_rate is None
    assert figures.satisfaction_rate is None
    assert figures.classes == NO_CLASSES
    assert metrics.per_bureau(Proposal.objects.none()) == []


def test_assigned_but_unreplied_proposal_has_no_reply_based_rates(
    assigned: Proposal, npc_session: ProposalSession
) -> None:
    figures = metrics.overall(Proposal.objects.filter(session=npc_session))

    assert (figures.assigned, figures.replied, figures.reply_rate) == (1, 0, 0.0)
    assert figures.on_time_rate is None
    assert figures.communication_rate is None
    assert figures.classes == NO_CLASSES


def test_co_handlers_and_bureaus_that_returned_the_proposal_do_not_count_per_bureau(
    registered: Proposal,
    staff: User,
    handler: User,
    handler_c: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given the office gave the proposal to lead C with co-handler A, C returned it, and B became the lead
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_c.pk, co=[bureau_a.pk])
    services.return_assignment(
        actor=handler_c, proposal_id=registered.pk, assignment_id=lead_of(registered).pk, reason="不属于本单位职责"
    )
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk)

    rows = metrics.per_bureau(Proposal.objects.filter(pk=registered.pk))

    # then only the lead bureau B counts the proposal
    assert [(row.bureau_name, row.figures.assigned) for row in rows] == [("市交通委", 1)]
    assert metrics.overall(Proposal.objects.filter(pk=registered.pk)).assigned == 1


def test_per_bureau_figures_of_separate_handling_are_each_bureaus_own(
    registered: Proposal,
    npc_session: ProposalSession,
    staff: User,
    handler: User,
    handler_c: User,
    bureau_b: Bureau,
    bureau_c: Bureau,
) -> None:
    # given 分办: bureau B replies late with class B, bureau C on time with class A
    services.assign(actor=staff, proposal_id=registered.pk, separate=[bureau_b.pk, bureau_c.pk])
    Assignment.objects.filter(proposal=registered, bureau=bureau_b).update(
        reply_due=timezone.localdate() - timedelta(days=1)
    )
    plan = [
        (handler, registered.assignments.get(bureau=bureau_b), "B"),
        (handler_c, registered.assignments.get(bureau=bureau_c), "A"),
    ]
    for actor, assignment, _class in plan:
        services.accept_assignment(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
    for actor, assignment, outcome_class in plan:
        reply = services.draft_reply(
            actor=actor,
            proposal_id=registered.pk,
            assignment_id=assignment.pk,
            outcome_class=outcome_class,
            body="答复正文。",
            contact_person="联系人",
            contact_phone="0571-87654321",
        )
        services.submit_reply(actor=actor, proposal_id=registered.pk, assignment_id=assignment.pk)
        services.review_reply(actor=staff, proposal_id=registered.pk, reply_id=reply.pk, approve=True)

    rows = {row.bureau_id: row.figures for row in metrics.per_bureau(Proposal.objects.filter(session=npc_session))}

    # then each bureau is judged by its own reply
    assert (rows[bureau_b.pk].on_time, rows[bureau_c.pk].on_time) == (0, 1)
    assert rows[bureau_b.pk].classes == {"A": 0, "B": 1, "C": 0, "D": 0}
    assert rows[bureau_c.pk].classes == {"A": 1, "B": 0, "C": 0, "D": 0}
