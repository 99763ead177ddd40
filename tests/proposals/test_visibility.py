"""Who sees which proposals (``visible_to``) and which timeline events (``proposals.access.timeline_for``)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from consult.models import Bureau, User
from proposals import services
from proposals.access import timeline_for
from proposals.models import Proposal, ProposalSession
from proposals.selectors import can_see_id
from tests.factories import ExpertProfileFactory
from tests.proposals.conftest import co_of, content, lead_of


def visible(user: User | AnonymousUser) -> set[int]:
    return set(Proposal.objects.visible_to(user).values_list("pk", flat=True))


def actions_seen_by(user: User, proposal: Proposal) -> list[str]:
    return [event.action for event in timeline_for(user, proposal)]


# --- proposals ---------------------------------------------------------------------------------


def test_a_draft_is_seen_by_its_proposer_only_not_even_by_the_office(
    deputy: User,
    cosigner: User,
    member: User,
    expert: User,
    handler: User,
    staff: User,
    admin_user: User,
    outsider: User,
    draft: Proposal,
) -> None:
    assert visible(deputy) == {draft.pk}
    for stranger in (cosigner, member, expert, handler, staff, admin_user, outsider):
        assert draft.pk not in visible(stranger), stranger.username


def test_an_invited_co_signer_sees_the_draft_they_were_invited_to(
    deputy: User, cosigner: User, draft: Proposal, npc_session: ProposalSession
) -> None:
    other = services.create_draft(actor=deputy, content=content(title="未邀请联名的建议"))

    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert visible(cosigner) == {draft.pk}
    assert other.pk in visible(deputy)


def test_other_deputies_see_a_proposal_only_once_it_is_published(
    cosigner: User, member: User, registered: Proposal
) -> None:
    assert registered.pk not in visible(cosigner)

    Proposal.objects.filter(pk=registered.pk).update(published_at=timezone.now())

    assert registered.pk in visible(cosigner)
    assert registered.pk in visible(member)


def test_a_merged_proposer_follows_the_proposal_theirs_was_merged_into(
    cosigner: User, staff: User, registered: Proposal
) -> None:
    duplicate = services.create_draft(actor=cosigner, content=content(title="同题建议"))
    services.submit(actor=cosigner, proposal_id=duplicate.pk)

    services.merge(actor=staff, proposal_id=duplicate.pk, into_id=registered.pk)

    assert visible(cosigner) == {duplicate.pk, registered.pk}


def test_a_bureau_sees_only_what_was_assigned_to_it(
    expert: User, handler: User, handler_a: User, handler_c: User, assigned: Proposal, bureau_a: Bureau
) -> None:
    # bureau B leads (handler), bureau A co-handles (handler_a and the expert of bureau A), bureau C has nothing
    assert visible(handler) == {assigned.pk}
    assert visible(handler_a) == {assigned.pk}
    assert visible(expert) == {assigned.pk}
    assert visible(handler_c) == set()


def test_a_bureau_does_not_see_a_registered_proposal_before_assignment(
    handler: User, expert: User, registered: Proposal
) -> None:
    assert visible(handler) == set()
    assert visible(expert) == set()


def test_a_bureau_does_not_see_a_draft_naming_it_as_the_wished_lead(
    deputy: User, handler: User, npc_session: ProposalSession, bureau_b: Bureau
) -> None:
    services.create_draft(actor=deputy, content=content(wished_lead_bureau_id=bureau_b.pk))

    assert visible(handler) == set()


def test_a_bureau_never_sees_a_draft_even_with_an_assignment_row(handler: User, assigned: Proposal) -> None:
    # given: an assigned proposal put back to draft directly (the cycle never does this)
    Proposal.objects.filter(pk=assigned.pk).update(status="draft")

    assert visible(handler) == set()


def test_a_bureau_keeps_seeing_a_proposal_it_returned(
    handler: User, staff: User, assigned: Proposal, bureau_c: Bureau, handler_c: User
) -> None:
    services.return_assignment(
        actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, reason="属于市发改委职责"
    )
    services.assign(actor=staff, proposal_id=assigned.pk, lead=bureau_c.pk)

    assert visible(handler) == {assigned.pk}
    assert visible(handler_c) == {assigned.pk}


def test_the_office_sees_every_submitted_proposal_of_both_chambers(
    staff: User, admin_user: User, deputy: User, member: User, registered: Proposal, cppcc_session: ProposalSession
) -> None:
    cppcc = services.create_draft(actor=member, content=content(title="政协提案"))
    services.submit(actor=member, proposal_id=cppcc.pk)
    services.convert_to_letter(actor=staff, proposal_id=cppcc.pk, reason="属个人诉求")
    services.create_draft(actor=deputy, content=content(title="还在暂存的建议"))

    assert visible(staff) == visible(admin_user) == {registered.pk, cppcc.pk}


def test_an_anonymous_visitor_sees_nothing_not_even_published_proposals(registered: Proposal) -> None:
    Proposal.objects.filter(pk=registered.pk).update(published_at=timezone.now())

    assert visible(AnonymousUser()) == set()
    assert not can_see_id(AnonymousUser(), registered.pk)


def test_a_signed_in_user_without_a_bureau_or_deputy_profile_sees_nothing(outsider: User, assigned: Proposal) -> None:
    assert visible(outsider) == set()


def test_can_see_id_agrees_with_visible_to(deputy: User, cosigner: User, handler: User, assigned: Proposal) -> None:
    assert can_see_id(deputy, assigned.pk)
    assert can_see_id(handler, assigned.pk)
    assert not can_see_id(cosigner, assigned.pk)
    assert not can_see_id(deputy, 987654)


# --- timeline events ---------------------------------------------------------------------------


@pytest.fixture
def returned_by_co(assigned: Proposal, handler_a: User) -> Proposal:
    """Bureau A, the co-handler, returns its part with a reason (an event for bureau A and the office)."""
    services.return_assignment(
        actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk, reason="与我委职责无关"
    )
    return assigned


def test_a_bureaus_return_reason_is_seen_by_that_bureau_and_the_office_only(
    deputy: User, handler: User, handler_a: User, expert: User, staff: User, returned_by_co: Proposal
) -> None:
    event = returned_by_co.events.get(action="return_assignment")
    assert "与我委职责无关" in event.reason

    assert "return_assignment" in actions_seen_by(handler_a, returned_by_co)
    assert "return_assignment" in actions_seen_by(expert, returned_by_co)  # bureau A's expert: same bureau
    assert "return_assignment" in actions_seen_by(staff, returned_by_co)
    assert "return_assignment" not in actions_seen_by(handler, returned_by_co)  # bureau B, the lead
    assert "return_assignment" not in actions_seen_by(deputy, returned_by_co)


def test_a_co_handlers_opinion_is_seen_by_the_lead_bureau_and_the_office_only(
    deputy: User, handler: User, handler_a: User, staff: User, assigned: Proposal
) -> None:
    services.submit_opinion(
        actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk, body="同意增开区间车。"
    )

    assert "submit_opinion" in actions_seen_by(handler, assigned)
    assert "submit_opinion" in actions_seen_by(staff, assigned)
    assert "submit_opinion" not in actions_seen_by(handler_a, assigned)
    assert "submit_opinion" not in actions_seen_by(deputy, assigned)


def test_a_withdrawal_is_seen_by_the_office_only(
    deputy: User, handler: User, handler_a: User, staff: User, admin_user: User, assigned: Proposal
) -> None:
    services.withdraw_assignment(
        actor=staff, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk, reason="改由他委主办"
    )

    assert "withdraw_assignment" in actions_seen_by(staff, assigned)
    assert "withdraw_assignment" in actions_seen_by(admin_user, assigned)
    for outside_the_office in (deputy, handler, handler_a):
        assert "withdraw_assignment" not in actions_seen_by(outside_the_office, assigned)


def test_public_events_are_the_deputys_timeline(deputy: User, handler: User, assigned: Proposal) -> None:
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)

    assert actions_seen_by(deputy, assigned) == ["create_draft", "submit", "register", "assign", "accept_assignment"]


def test_another_bureaus_expert_does_not_see_a_bureau_note(
    handler: User, returned_by_co: Proposal, bureau_b: Bureau
) -> None:
    expert_b = ExpertProfileFactory(user__username="expert-b", bureau=bureau_b).user

    assert "return_assignment" not in actions_seen_by(expert_b, returned_by_co)
