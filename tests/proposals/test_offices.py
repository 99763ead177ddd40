"""The two offices (issue 15 point 14): with SEPARATE_OFFICES the people's congress office (人大) registers,
assigns, supervises and publishes deputies' 建议 and the CPPCC office (政协) members' 提案, each sees only its
own and its own statistics; staff of neither office, administrators and a combined office handle both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from consult.kernel.exceptions import NotAllowed
from consult.models import Bureau, Notification, User
from consult.people.roles import Chamber, Role
from proposals import metrics, services
from proposals.access import office_kinds
from proposals.models import Proposal, ProposalKind, ProposalSession, Status
from tests.factories import UserFactory
from tests.proposals.conftest import content


@pytest.fixture
def separate() -> Iterator[None]:
    with override_settings(SEPARATE_OFFICES=True):
        yield


@pytest.fixture
def npc_staff(db: None) -> User:
    return UserFactory(username="npc-staff", full_name="人大工作人员", role=Role.STAFF, office=Chamber.NPC)


@pytest.fixture
def cppcc_staff(db: None) -> User:
    return UserFactory(username="cppcc-staff", full_name="政协工作人员", role=Role.STAFF, office=Chamber.CPPCC)


@pytest.fixture
def suggestion(deputy: User, npc_session: ProposalSession) -> Proposal:
    proposal = services.create_draft(actor=deputy, content=content(title="关于增开东湖区区间车的建议"))
    return services.submit(actor=deputy, proposal_id=proposal.pk)


@pytest.fixture
def motion(member: User, cppcc_session: ProposalSession) -> Proposal:
    proposal = services.create_draft(actor=member, content=content(title="关于加强社区医疗服务的提案"))
    return services.submit(actor=member, proposal_id=proposal.pk)


def test_each_office_registers_only_its_own_kind(
    separate: None, suggestion: Proposal, motion: Proposal, npc_staff: User, cppcc_staff: User
) -> None:
    assert (suggestion.kind, motion.kind) == (ProposalKind.SUGGESTION, ProposalKind.PROPOSAL)
    with pytest.raises(NotAllowed):
        services.register(actor=cppcc_staff, proposal_id=suggestion.pk)
    with pytest.raises(NotAllowed):
        services.register(actor=npc_staff, proposal_id=motion.pk)

    assert services.register(actor=npc_staff, proposal_id=suggestion.pk).status == Status.REGISTERED
    assert services.register(actor=cppcc_staff, proposal_id=motion.pk).status == Status.REGISTERED


def test_each_office_sees_and_is_told_about_its_own_kind(
    separate: None, npc_staff: User, cppcc_staff: User, staff: User, suggestion: Proposal, motion: Proposal
) -> None:
    assert list(Proposal.objects.visible_to(npc_staff)) == [suggestion]
    assert list(Proposal.objects.visible_to(cppcc_staff)) == [motion]
    assert set(Proposal.objects.visible_to(staff)) == {suggestion, motion}  # staff of neither office: both
    told = {
        user: set(Notification.objects.filter(user=user).values_list("url", flat=True))
        for user in (npc_staff, cppcc_staff)
    }
    assert told[npc_staff] == {f"/proposals/{suggestion.pk}/"}
    assert told[cppcc_staff] == {f"/proposals/{motion.pk}/"}


def test_each_office_counts_its_own_statistics(
    separate: None,
    suggestion: Proposal,
    motion: Proposal,
    npc_staff: User,
    cppcc_staff: User,
    bureau_b: Bureau,
) -> None:
    services.register(actor=npc_staff, proposal_id=suggestion.pk)
    services.assign(actor=npc_staff, proposal_id=suggestion.pk, lead=bureau_b.pk)
    services.register(actor=cppcc_staff, proposal_id=motion.pk)

    everything = metrics.Scope()
    assert metrics.report(Proposal.objects.visible_to(npc_staff), everything).overall.assigned == 1
    assert metrics.report(Proposal.objects.visible_to(cppcc_staff), everything).overall.assigned == 0
    client = Client()
    client.force_login(cppcc_staff)
    assert client.get("/api/proposals/metrics/").json()["overall"]["assigned"] == 0
    with pytest.raises(NotAllowed):
        services.assign(actor=cppcc_staff, proposal_id=suggestion.pk, lead=bureau_b.pk)


def test_one_combined_office_handles_both_kinds_by_default(
    suggestion: Proposal, motion: Proposal, cppcc_staff: User
) -> None:
    assert office_kinds(cppcc_staff) is None
    assert services.register(actor=cppcc_staff, proposal_id=suggestion.pk).status == Status.REGISTERED
    assert set(Proposal.objects.visible_to(cppcc_staff)) == {suggestion, motion}


def test_administrators_handle_both_kinds_with_two_offices(separate: None, admin_user: User) -> None:
    assert office_kinds(admin_user) is None


def test_each_office_desk_and_statistics_page_list_its_own_kind(
    separate: None, npc_staff: User, cppcc_staff: User, suggestion: Proposal, motion: Proposal
) -> None:
    pages = {}
    for user in (npc_staff, cppcc_staff):
        client = Client()
        client.force_login(user)
        pages[user] = client.get("/office/registration/").content.decode()
        assert client.get("/office/statistics/").status_code == 200

    assert suggestion.title in pages[npc_staff]
    assert motion.title not in pages[npc_staff]
    assert motion.title in pages[cppcc_staff]
    assert suggestion.title not in pages[cppcc_staff]
