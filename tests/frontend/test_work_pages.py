"""Daily work on the pages (issue 15, points 4, 5 and 7): a refused form stays on its own page (post, redirect,
get: a reload never posts again), the rating form marks every missing field and 不满意 needs a reason, expired
co-sign invitations say so, and the supervision desk pages through every overdue assignment, filters them and
sends a 催办."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

import tests.proposals.conftest as proposal_fixtures
from consult.models import Bureau, Notification, User
from frontend.views_proposals import supervision
from proposals import services
from proposals.actions import Action
from proposals.models import Assignment, CoSigner, Feedback, Proposal, ProposalEvent
from tests.frontend.test_pages import ContactForm, signed_in, text
from tests.frontend.test_proposal_pages import accepted, field_error, forms_on, replied, reply_in_review
from tests.proposals.conftest import content, lead_of

npc_session = proposal_fixtures.npc_session
handler_a = proposal_fixtures.handler_a
draft = proposal_fixtures.draft
submitted = proposal_fixtures.submitted
registered = proposal_fixtures.registered
assigned = proposal_fixtures.assigned
__all__ = ["accepted", "replied", "reply_in_review"]  # fixtures shared with the proposal pages' tests


def post(client: Client, proposal: Proposal, name: str, data: dict[str, object]) -> object:
    return client.post(f"/proposals/{proposal.pk}/act/{name}/", data)


# --- a refused form stays on its page ----------------------------------------------------------------


def test_a_refused_form_redirects_to_its_page_which_shows_it_once_and_a_reload_posts_nothing(
    deputy: User, replied: Proposal
) -> None:
    client = signed_in(deputy)
    reply = replied.replies.get()

    refused = client.post(f"/proposals/{replied.pk}/act/rate_reply/", {"reply_id": reply.pk, "contact": "satisfied"})
    shown = client.get(refused["Location"])
    reloaded = client.get(refused["Location"])

    assert refused.status_code == 303
    assert refused["Location"] == f"/proposals/{replied.pk}/"
    assert shown.status_code == 400
    assert re.search(r'name="contact" value="satisfied"[^>]*checked', text(shown))  # what was typed is kept
    assert field_error(shown, "attitude") == "请选择满意、基本满意或不满意"
    assert reloaded.status_code == 200
    assert 'data-field="attitude"' not in text(reloaded)
    assert not Feedback.objects.exists()


def test_a_refused_form_of_a_filtered_list_returns_to_the_same_filters(
    staff: User, assigned: Proposal, handler: User
) -> None:
    lead = lead_of(assigned)
    client = signed_in(staff)
    services.urge(actor=staff, proposal_id=assigned.pk, assignment_id=lead.pk)

    refused = post(
        client,
        assigned,
        "urge",
        {"assignment_id": lead.pk, "return_to": "supervision", "return_query": "min_days=1&bureau=x\r\nSet-Cookie: a"},
    )

    assert refused.status_code == 303  # type: ignore[attr-defined]
    location = refused["Location"]  # type: ignore[index]
    assert location.startswith("/office/supervision/?min_days=1&bureau=x")
    assert "\n" not in location


# --- 不满意 needs a reason; every missing field is marked -----------------------------------------------


def test_the_rating_form_marks_every_missing_field_at_once(deputy: User, replied: Proposal) -> None:
    client = signed_in(deputy)
    refused = post(client, replied, "rate_reply", {"reply_id": replied.replies.get().pk})
    page = client.get(refused["Location"])  # type: ignore[index]

    assert {name for name in ("contact", "attitude", "result") if f'data-field="{name}"' in text(page)} == {
        "contact",
        "attitude",
        "result",
    }


def test_unsatisfied_without_a_reason_is_refused_beside_the_comment(deputy: User, replied: Proposal) -> None:
    client = signed_in(deputy)
    values = {"reply_id": replied.replies.get().pk, "contact": "satisfied", "attitude": "satisfied"}

    refused = post(client, replied, "rate_reply", {**values, "result": "unsatisfied", "comment": " "})
    page = client.get(refused["Location"])  # type: ignore[index]
    done = post(client, replied, "rate_reply", {**values, "result": "unsatisfied", "comment": "没有时间表"})

    assert field_error(page, "comment") == "请说明不满意的理由"
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert Feedback.objects.get().comment == "没有时间表"


# --- expired co-sign invitations ----------------------------------------------------------------------


def test_an_expired_invitation_shows_as_expired_not_as_buttons(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    CoSigner.objects.filter(proposal=draft).update(sign_by=timezone.now() - timedelta(minutes=1))

    mine = signed_in(cosigner).get("/proposals/mine/")
    detail = signed_in(cosigner).get(f"/proposals/{draft.pk}/")
    proposer_view = signed_in(deputy).get(f"/proposals/{draft.pk}/")

    assert "cosign" not in forms_on(mine)
    assert "data-expired" in text(mine)
    assert "cosign" not in forms_on(detail)
    assert "data-expired" in text(detail)
    assert "data-cosign-expired" in text(proposer_view)


# --- the supervision desk ------------------------------------------------------------------------------


def overdue_world(deputy: User, staff: User, bureau_a: Bureau, bureau_b: Bureau, count: int) -> list[Proposal]:
    """``count`` proposals assigned to bureau B (lead) and A (co), their deadlines passed 3 and 10 days ago."""
    made = []
    for n in range(count):
        proposal = services.create_draft(actor=deputy, content=content(title=f"关于第{n}号路口改造的建议"))
        services.submit(actor=deputy, proposal_id=proposal.pk)
        services.register(actor=staff, proposal_id=proposal.pk)
        services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
        made.append(proposal)
    today = timezone.localdate()
    # time passes: the deadlines the services set are now behind us
    Assignment.objects.filter(proposal__in=made, bureau=bureau_b).update(reply_due=today - timedelta(days=3))
    Assignment.objects.filter(proposal__in=made, bureau=bureau_a).update(opinion_due=today - timedelta(days=10))
    return made


def overdue_rows(page: object) -> list[str]:
    return re.findall(r'data-assignment="(\d+)"', text(page))  # type: ignore[arg-type]


def test_the_desk_pages_through_every_overdue_assignment(
    monkeypatch: pytest.MonkeyPatch, deputy: User, staff: User, bureau_a: Bureau, bureau_b: Bureau, npc_session: object
) -> None:
    overdue_world(deputy, staff, bureau_a, bureau_b, 3)
    monkeypatch.setattr(supervision, "LIMIT", 4)
    client = signed_in(staff)

    first = client.get("/office/supervision/")
    second = client.get("/office/supervision/", {"page": 2})

    assert re.search(r'data-count="overdue">6<', text(first))
    assert len(overdue_rows(first)) == 4
    assert len(overdue_rows(second)) == 2
    assert not set(overdue_rows(first)) & set(overdue_rows(second))
    assert 'rel="next"' in text(first)


def test_the_desk_filters_overdue_by_bureau_and_days(
    deputy: User, staff: User, bureau_a: Bureau, bureau_b: Bureau, npc_session: object
) -> None:
    overdue_world(deputy, staff, bureau_a, bureau_b, 2)
    client = signed_in(staff)

    of_b = client.get("/office/supervision/", {"bureau": bureau_b.pk})
    week_late = client.get("/office/supervision/", {"min_days": 7})
    bad = client.get("/office/supervision/", {"min_days": "many"})

    assert len(overdue_rows(of_b)) == 2
    assert re.search(r'data-count="overdue">2<', text(of_b))
    assert set(overdue_rows(of_b)) == {str(a.pk) for a in Assignment.objects.filter(bureau=bureau_b)}
    # only bureau A's opinions are 10 days late
    assert set(overdue_rows(week_late)) == {str(a.pk) for a in Assignment.objects.filter(bureau=bureau_a)}
    assert bad.status_code == 400
    assert 'data-field="min_days"' in text(bad)


def test_urging_from_the_desk_tells_the_bureau_and_a_second_try_is_refused_on_the_desk(
    deputy: User, staff: User, handler: User, bureau_a: Bureau, bureau_b: Bureau, npc_session: object
) -> None:
    (proposal,) = overdue_world(deputy, staff, bureau_a, bureau_b, 1)
    lead = lead_of(proposal)
    client = signed_in(staff)
    desk = client.get("/office/supervision/")
    form = {"assignment_id": lead.pk, "note": "请本周内答复", "return_to": "supervision"}

    done = post(client, proposal, "urge", form)
    again = post(client, proposal, "urge", form)
    shown = client.get(again["Location"])  # type: ignore[index]

    assert "urge" in forms_on(desk)
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert done["Location"] == "/office/supervision/"  # type: ignore[index]
    assert Notification.objects.filter(user=handler, kind="supervision.urged").count() == 1
    assert again.status_code == 303  # type: ignore[attr-defined]
    assert shown.status_code == 429
    assert "下次催办须在" in text(shown)
    assert "data-urged" in text(shown)
    assert ProposalEvent.objects.filter(action=Action.URGE).count() == 1


@pytest.mark.parametrize("persona", ["handler", "deputy"])
def test_only_the_office_has_the_desk_or_urges(
    persona: str, request: pytest.FixtureRequest, assigned: Proposal
) -> None:
    user = request.getfixturevalue(persona)
    client = signed_in(user)

    desk = client.get("/office/supervision/")
    tried = post(client, assigned, "urge", {"assignment_id": lead_of(assigned).pk})

    assert desk.status_code == 403
    assert tried.status_code in (303, 404)  # type: ignore[attr-defined]
    assert not ProposalEvent.objects.filter(action=Action.URGE).exists()


def test_a_refused_bulk_action_returns_to_its_desk_and_a_reload_posts_nothing(staff: User, submitted: Proposal) -> None:
    client = signed_in(staff)

    refused = client.post("/office/registration/bulk/", {})
    shown = client.get(refused["Location"])
    reloaded = client.get(refused["Location"])

    assert refused.status_code == 303
    assert refused["Location"] == "/office/registration/"
    assert shown.status_code == 400
    assert field_error(shown, "selected") == "请至少选择一行。"
    assert reloaded.status_code == 200
    assert 'data-field="selected"' not in text(reloaded)


def test_a_refused_draft_comes_back_on_its_own_url_once(deputy: User, npc_session: object) -> None:
    client = signed_in(deputy)
    form = {
        "title": "  ",
        "body": "翠湖新村居民出行不便，建议增开区间车。",
        "category": "交通",
        "publication_consent": "on",
    }

    refused = client.post("/proposals/new/", form)
    shown = client.get(refused["Location"])
    reloaded = client.get(refused["Location"])

    assert refused.status_code == 303
    assert refused["Location"] == "/proposals/new/"
    assert shown.status_code == 400
    assert field_error(shown, "title") == "此项不能为空"
    assert "翠湖新村居民出行不便" in text(shown)  # what was typed is kept
    assert reloaded.status_code == 200
    assert "翠湖新村居民出行不便" not in text(reloaded)
    assert not Proposal.objects.exists()


def test_a_refused_contact_form_comes_back_on_the_profile_once(deputy: User) -> None:
    client = signed_in(deputy)

    refused = client.post("/profile/", ContactForm(mobile="12345").data())
    shown = client.get(refused["Location"])
    reloaded = client.get(refused["Location"])

    assert refused.status_code == 303
    assert refused["Location"] == "/profile/"
    assert shown.status_code == 400
    assert field_error(shown, "mobile") == "手机号码应为以 1 开头的 11 位数字"
    assert 'value="12345"' in text(shown)
    assert reloaded.status_code == 200
    assert 'data-field="mobile"' not in text(reloaded)
