"""Fixtures for the proposal cycle: open sessions, a deputy's draft, and a proposal at each stage."""

from __future__ import annotations

import pytest

from consult.models import Bureau, User
from consult.people.roles import Chamber
from proposals import services
from proposals.models import Assignment, Proposal, ProposalSession
from tests.factories import BureauFactory, HandlerProfileFactory


@pytest.fixture
def npc_session(db: None) -> ProposalSession:
    return ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )


@pytest.fixture
def cppcc_session(db: None) -> ProposalSession:
    return ProposalSession.objects.create(
        chamber=Chamber.CPPCC, year=2027, name="政协海滨市第十四届委员会第三次会议", number_prefix="提", is_open=True
    )


@pytest.fixture
def bureau_c(db: None) -> Bureau:
    return BureauFactory(code="fgw", name="市发展改革委", full_name="海滨市发展和改革委员会")


@pytest.fixture
def handler_a(bureau_a: Bureau) -> User:
    """A handler of bureau A (市教委): bureau A is the co-handler in the standard plan."""
    return HandlerProfileFactory(user__username="handler-a", user__full_name="孙悦", bureau=bureau_a).user


@pytest.fixture
def handler_c(bureau_c: Bureau) -> User:
    return HandlerProfileFactory(user__username="handler-c", user__full_name="周强", bureau=bureau_c).user


def content(**overrides: object) -> services.DraftContent:
    values: dict[str, object] = {
        "title": "关于优化东湖区早晚高峰公交线路的建议",
        "body": "东湖区翠湖新村入住居民增多，早晚高峰公交满载率超过百分之一百二十。建议增开区间车并优化站点。",
        "category": "交通",
    }
    values.update(overrides)
    return services.DraftContent(**values)  # type: ignore[arg-type]


@pytest.fixture
def draft(deputy: User, npc_session: ProposalSession) -> Proposal:
    return services.create_draft(actor=deputy, content=content())


@pytest.fixture
def submitted(draft: Proposal, deputy: User) -> Proposal:
    return services.submit(actor=deputy, proposal_id=draft.pk)


@pytest.fixture
def registered(submitted: Proposal, staff: User) -> Proposal:
    return services.register(actor=staff, proposal_id=submitted.pk)


@pytest.fixture
def assigned(registered: Proposal, staff: User, bureau_b: Bureau, bureau_a: Bureau, handler: User) -> Proposal:
    """Lead: bureau B (市交通委, whose handler is ``handler``); co-handler: bureau A."""
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    return Proposal.objects.get(pk=registered.pk)


def lead_of(proposal: Proposal) -> Assignment:
    return proposal.assignments.get(role="lead", status__in=["pending", "accepted"])


def co_of(proposal: Proposal) -> Assignment:
    return proposal.assignments.get(role="co", status__in=["pending", "accepted"])
