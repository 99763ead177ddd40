"""Home pages are to-do lists (issue 15, point 3): each role sees what waits for it, counted, each item a link
to where it is done."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

import tests.proposals.conftest as proposal_fixtures
from consult.desk import services as desk
from consult.models import Bureau, User
from proposals import services
from proposals.models import Assignment, Proposal, ProposalSession
from tests.frontend.test_pages import signed_in, text
from tests.proposals.conftest import content

npc_session = proposal_fixtures.npc_session
handler_a = proposal_fixtures.handler_a
draft = proposal_fixtures.draft
submitted = proposal_fixtures.submitted
registered = proposal_fixtures.registered
assigned = proposal_fixtures.assigned


def counts(page: object) -> dict[str, int]:
    found = re.findall(r'data-todo-count="(\w+)">(\d+)<', text(page))  # type: ignore[arg-type]
    return {key: int(n) for key, n in found}


def test_a_deputy_home_lists_invitations_drafts_and_consultations(
    deputy: User, cosigner: User, npc_session: ProposalSession, bureau_a: Bureau
) -> None:
    proposal = services.create_draft(actor=deputy, content=content())
    services.invite_cosigner(actor=deputy, proposal_id=proposal.pk, deputy_id=cosigner.pk)
    asked = desk.start_consultation(actor=cosigner, bureau_id=bureau_a.pk, topic="公交线路调整的进展")

    mine = signed_in(deputy).get("/")
    theirs = signed_in(cosigner).get("/")

    assert counts(mine) == {"rate": 0, "cosign": 0, "consultations": 0, "drafts": 1}
    assert f'href="/proposals/{proposal.pk}/"' in text(mine)
    assert counts(theirs) == {"rate": 0, "cosign": 1, "consultations": 1, "drafts": 0}
    assert f'href="/proposals/{proposal.pk}/#cosign"' in text(theirs)
    assert f'href="/desk/consultations/{asked.pk}/"' in text(theirs)
    assert "待办事项" in text(theirs)


def test_an_expert_home_shows_the_queue(expert: User, deputy: User, bureau_a: Bureau) -> None:
    desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="义务教育学位的咨询")

    page = signed_in(expert).get("/")

    assert counts(page) == {"live": 0, "queue": 1}
    assert "义务教育学位的咨询" in text(page)
    assert 'href="/desk/workbench/"' in text(page)


def test_a_handler_home_lists_assignments_by_deadline(handler: User, assigned: Proposal) -> None:
    Assignment.objects.filter(proposal=assigned).update(reply_due=timezone.localdate() - timedelta(days=1))

    page = signed_in(handler).get("/")

    assert counts(page) == {"assignments": 1}
    assert f'href="/proposals/{assigned.pk}/"' in text(page)
    assert 'data-urgency="overdue"' in text(page)


def test_the_office_home_counts_each_desk(staff: User, submitted: Proposal, deputy: User) -> None:
    second = services.create_draft(actor=deputy, content=content(title="关于增设社区食堂的建议"))
    services.submit(actor=deputy, proposal_id=second.pk)
    services.register(actor=staff, proposal_id=second.pk)

    page = signed_in(staff).get("/")

    assert counts(page) == {"register": 1, "assign": 1, "review": 0, "publish": 0, "overdue": 0}
    assert 'href="/office/registration/"' in text(page)
    assert 'href="/office/supervision/#overdue"' in text(page)


def test_nobody_sees_another_persons_to_dos(outsider: User, deputy: User, npc_session: ProposalSession) -> None:
    services.create_draft(actor=deputy, content=content())

    page = signed_in(outsider).get("/")

    assert page.status_code == 200
    assert sum(counts(page).values()) == 0
