"""What waits for whom (``proposals.worklists``, ``consult.desk.selectors.open_consultations``): each role's to-do
lists hold exactly what that person must act on, built through the services, and never what they may not see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consult.desk import selectors as desk_selectors
from consult.desk import services as desk
from consult.models import Bureau, User
from proposals import services, worklists
from proposals.models import Assignment, CoSigner, Proposal, ProposalSession
from tests.factories import DeputyProfileFactory
from tests.proposals.conftest import co_of, content, lead_of


def ids(rows: object) -> set[int]:
    return {row.pk for row in rows}  # type: ignore[attr-defined]


def walk_to_sent_reply(proposal: Proposal, staff: User, handler: User, handler_a: User) -> int:
    lead, co = lead_of(proposal), co_of(proposal)
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


@pytest.fixture
def signed_proposal(
    deputy: User, cosigner: User, staff: User, npc_session: ProposalSession, bureau_a: Bureau, bureau_b: Bureau
) -> Proposal:
    """``deputy``'s proposal co-signed by ``cosigner``, assigned to bureau B (lead) and A (co)."""
    proposal = services.create_draft(actor=deputy, content=content())
    services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=proposal.pk, sign=True)
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    return Proposal.objects.get(pk=proposal.pk)


# --- deputies ------------------------------------------------------------------------------------------


def test_a_sent_reply_waits_for_each_recipient_until_they_rate_it(
    signed_proposal: Proposal, deputy: User, cosigner: User, member: User, staff: User, handler: User, handler_a: User
) -> None:
    reply = walk_to_sent_reply(signed_proposal, staff, handler, handler_a)

    before = (ids(worklists.replies_to_rate(deputy)), ids(worklists.replies_to_rate(cosigner)))
    services.rate_reply(
        actor=deputy,
        proposal_id=signed_proposal.pk,
        reply_id=reply,
        contact="satisfied",
        attitude="satisfied",
        result="satisfied",
    )

    assert before == ({reply}, {reply})
    assert not worklists.replies_to_rate(deputy).exists()
    assert ids(worklists.replies_to_rate(cosigner)) == {reply}
    assert not worklists.replies_to_rate(member).exists()  # not a recipient


def test_a_reply_in_review_is_not_yet_to_rate(signed_proposal: Proposal, deputy: User) -> None:
    assert not worklists.replies_to_rate(deputy).exists()


def test_invitations_to_co_sign_and_drafts(deputy: User, cosigner: User, npc_session: ProposalSession) -> None:
    mine = services.create_draft(actor=deputy, content=content())
    other = services.create_draft(actor=deputy, content=content(title="关于增设社区食堂的建议"))
    services.invite_cosigner(actor=deputy, proposal_id=mine.pk, deputy_id=cosigner.pk)
    services.invite_cosigner(actor=deputy, proposal_id=other.pk, deputy_id=cosigner.pk)
    CoSigner.objects.filter(proposal=other).update(sign_by=timezone.now() - timedelta(hours=1))

    assert ids(worklists.drafts(deputy)) == {mine.pk, other.pk}
    assert not worklists.drafts(cosigner).exists()  # an invitee sees the draft but it is not theirs to finish
    assert {c.proposal_id for c in worklists.open_invitations(cosigner)} == {mine.pk}  # the expired one is not to do
    assert {c.proposal_id for c in worklists.cosign_invitations(cosigner)} == {mine.pk, other.pk}


def test_a_deputy_has_their_waiting_consultations_to_follow(deputy: User, cosigner: User, bureau_a: Bureau) -> None:
    asked = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="公交线路调整的进展")

    assert ids(desk_selectors.open_consultations(deputy)) == {asked.pk}
    assert not desk_selectors.open_consultations(cosigner).exists()


# --- bureaus -------------------------------------------------------------------------------------------------


def test_a_handler_has_the_bureau_assignments_nearest_deadline_first(
    signed_proposal: Proposal, deputy: User, staff: User, handler: User, handler_a: User, bureau_b: Bureau
) -> None:
    later = services.create_draft(actor=deputy, content=content(title="关于增设社区食堂的建议"))
    services.submit(actor=deputy, proposal_id=later.pk)
    services.register(actor=staff, proposal_id=later.pk)
    services.assign(actor=staff, proposal_id=later.pk, lead=bureau_b.pk, co=[])
    Assignment.objects.filter(proposal=later).update(reply_due=timezone.localdate() + timedelta(days=2))

    rows = list(worklists.bureau_assignments(handler))

    assert [a.proposal_id for a in rows] == [later.pk, signed_proposal.pk]
    assert [a.proposal_id for a in worklists.bureau_assignments(handler_a)] == [signed_proposal.pk]  # its opinion


# --- the office ------------------------------------------------------------------------------------------------


def test_the_office_lists_follow_the_cycle_and_filter_by_kind(
    deputy: User, staff: User, npc_session: ProposalSession, cppcc_session: ProposalSession, bureau_b: Bureau
) -> None:
    submitted = services.create_draft(actor=deputy, content=content())
    services.submit(actor=deputy, proposal_id=submitted.pk)
    registered = services.create_draft(actor=deputy, content=content(title="关于增设社区食堂的建议"))
    services.submit(actor=deputy, proposal_id=registered.pk)
    services.register(actor=staff, proposal_id=registered.pk)
    draft = services.create_draft(actor=deputy, content=content(title="尚未提交的草稿"))
    member = DeputyProfileFactory(chamber="cppcc").user
    proposal = services.create_draft(actor=member, content=content(title="关于保护老街区的提案"))
    services.submit(actor=member, proposal_id=proposal.pk)

    assert ids(worklists.to_register(staff)) == {submitted.pk, proposal.pk}
    assert ids(worklists.to_register(staff, kind="suggestion")) == {submitted.pk}
    assert ids(worklists.to_register(staff, kind="proposal")) == {proposal.pk}
    assert ids(worklists.to_assign(staff)) == {registered.pk}
    assert draft.pk not in ids(worklists.to_register(staff))


def test_overdue_counts_only_assignments_past_their_deadline(
    signed_proposal: Proposal, staff: User, handler: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    today = timezone.localdate()
    Assignment.objects.filter(bureau=bureau_b).update(reply_due=today - timedelta(days=1))
    Assignment.objects.filter(bureau=bureau_a).update(opinion_due=today)  # due today: not yet overdue

    overdue = list(worklists.overdue_assignments(staff))
    late = list(worklists.overdue_assignments(staff, worklists.OverdueFilter(min_days=2)))
    of_a = list(worklists.overdue_assignments(staff, worklists.OverdueFilter(bureau_id=bureau_a.pk)))

    assert [a.bureau_id for a in overdue] == [bureau_b.pk]
    assert late == []
    assert of_a == []
    assert ids(worklists.overdue_assignments(handler)) == ids(overdue)  # a bureau sees its own proposals only
