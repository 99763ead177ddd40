"""The pages of the proposal cycle, driven through Django's test client as each role uses them.

Given a proposal at some stage (made through the services), when a person opens a page or posts a
form, then they see it in Chinese, only with what they may do, and a refused form names the field
with nothing changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects
from pytest_django.fixtures import Settings

import tests.proposals.conftest as proposal_fixtures
from consult.models import Bureau, Notification, User
from consult.notifications.services import notify
from proposals import services
from proposals.models import (
    Assignment,
    Attachment,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    CoSignerStatus,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalSession,
    Reply,
    ReplyStatus,
    Status,
)
from tests.factories import BureauFactory, DeputyProfileFactory, HandlerProfileFactory
from tests.frontend.test_pages import Page, nav_labels, signed_in, text
from tests.proposals.conftest import co_of, content, lead_of

# The proposal fixtures live in tests/proposals/conftest.py; registering them here shares them.
npc_session = proposal_fixtures.npc_session
cppcc_session = proposal_fixtures.cppcc_session
handler_a = proposal_fixtures.handler_a
draft = proposal_fixtures.draft
submitted = proposal_fixtures.submitted
registered = proposal_fixtures.registered
assigned = proposal_fixtures.assigned
bureau_c = proposal_fixtures.bureau_c

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def act(client: Client, proposal: Proposal, name: str, data: Mapping[str, object] | None = None) -> Any:
    """Post an action; a refused one answers 303 to its page, which shows the form again (read here)."""
    response = client.post(f"/proposals/{proposal.pk}/act/{name}/", dict(data or {}))
    if response.status_code == 303:
        return client.get(response["Location"])
    return response


def bulk(client: Client, url: str, data: Mapping[str, object]) -> Any:
    """Post a bulk action; one with failed rows answers 303 to its desk, which shows what was done (read here)."""
    response = client.post(url, dict(data))
    if response.status_code == 303:
        return client.get(response["Location"])
    return response


def field_error(response: Page, name: str) -> str:
    """The message shown beside the field ``name`` (``<p class="error" data-field=name>``)."""
    found: list[str] = re.findall(rf'<p class="error" data-field="{name}">([^<]*)</p>', text(response))
    assert found, f"no error beside {name!r}"
    return found[0]


def alerts(response: Page) -> list[str]:
    return re.findall(r'<p class="error" role="alert">([^<]*)</p>', text(response))


def forms_on(response: Page) -> set[str]:
    return set(re.findall(r'data-form="(\w+)"', text(response)))


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def accepted(assigned: Proposal, handler: User, handler_a: User) -> Proposal:
    """Both bureaus accepted: lead bureau B (``handler``) and co-handling bureau A (``handler_a``)."""
    services.accept_assignment(actor=handler, proposal_id=assigned.pk, assignment_id=lead_of(assigned).pk)
    services.accept_assignment(actor=handler_a, proposal_id=assigned.pk, assignment_id=co_of(assigned).pk)
    return Proposal.objects.get(pk=assigned.pk)


@pytest.fixture
def reply_in_review(accepted: Proposal, handler: User, handler_a: User) -> Reply:
    lead, co = lead_of(accepted), co_of(accepted)
    services.record_communication(
        actor=handler,
        proposal_id=accepted.pk,
        assignment_id=lead.pk,
        channel="phone",
        occurred_on=timezone.localdate(),
        summary="电话联系王建国代表。",
    )
    services.submit_opinion(actor=handler_a, proposal_id=accepted.pk, assignment_id=co.pk, body="同意增开区间车。")
    reply = services.draft_reply(
        actor=handler,
        proposal_id=accepted.pk,
        assignment_id=lead.pk,
        outcome_class="B",
        body="已将区间车列入今年计划。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=accepted.pk, assignment_id=lead.pk)
    services.sign_off_reply(actor=handler_a, proposal_id=accepted.pk, reply_id=reply.pk, assignment_id=co.pk)
    return Reply.objects.get(pk=reply.pk)


@pytest.fixture
def replied(reply_in_review: Reply, staff: User) -> Proposal:
    services.review_reply(
        actor=staff, proposal_id=reply_in_review.proposal_id, reply_id=reply_in_review.pk, approve=True
    )
    return Proposal.objects.get(pk=reply_in_review.proposal_id)


def rate(deputy: User, proposal: Proposal, result: str = "satisfied", comment: str = "") -> Feedback:
    reply = proposal.replies.get(status=ReplyStatus.SENT)
    return services.rate_reply(
        actor=deputy,
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result=result,
        comment=comment,
    )


# --- navigation and notifications ------------------------------------------------------------------------


def test_each_role_finds_its_proposal_pages_in_the_navigation(
    deputy: User, handler: User, staff: User, admin_user: User
) -> None:
    assert nav_labels(signed_in(deputy).get("/")) == ["首页", "在线咨询", "我的建议提案", "委办局", "我的资料"]
    assert nav_labels(signed_in(handler).get("/")) == ["首页", "办理工作台", "委办局", "我的资料"]
    assert nav_labels(signed_in(staff).get("/")) == [
        "首页",
        "立案交办",
        "督办",
        "统计",
        "咨询统计",
        "搜索",
        "委办局",
        "我的资料",
    ]
    assert nav_labels(signed_in(admin_user).get("/")) == [
        "首页",
        "立案交办",
        "督办",
        "统计",
        "咨询统计",
        "搜索",
        "委办局",
        "我的资料",
        "系统管理",
    ]


def test_the_notifications_link_shows_the_unread_count(deputy: User, cosigner: User) -> None:
    notify([deputy.pk, deputy.pk], kind="test", title="请查看")
    notify([deputy.pk], kind="test", title="再看一条")
    notify([cosigner.pk], kind="test", title="别人的")

    response = signed_in(deputy).get("/")

    link = r'<a class="notifications-link" href="/notifications/"\s*>通知<span class="badge" data-unread-badge[^>]*>2<'
    assert re.search(link, text(response))


def test_with_nothing_unread_the_badge_is_hidden_but_present_for_live_updates(deputy: User) -> None:
    response = signed_in(deputy).get("/")

    assert re.search(r"<span class=\"badge\" data-unread-badge[^>]* hidden>0</span>", text(response))


def test_notifications_page_lists_only_mine_and_marks_them_all_read(deputy: User, cosigner: User) -> None:
    notify([deputy.pk], kind="test", title="您的建议提案已立案", url="/proposals/mine/")
    notify([cosigner.pk], kind="test", title="别人的通知")
    client = signed_in(deputy)

    page = client.get("/notifications/")
    marked = client.post("/notifications/read/")

    assertContains(page, "您的建议提案已立案")
    assertContains(page, "1 条未读")
    assertNotContains(page, "别人的通知")
    assertRedirects(marked, "/notifications/", fetch_redirect_response=False)
    assert not Notification.objects.filter(user=deputy, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=cosigner, read_at__isnull=True).exists()
    assertContains(client.get("/notifications/"), "全部通知已标为已读。")


def test_notifications_need_a_sign_in(client: Client, db: None) -> None:
    assertRedirects(client.get("/notifications/"), "/accounts/login/?next=/notifications/")


# --- my proposals -----------------------------------------------------------------------------------------


def test_my_proposals_lists_my_drafts_and_invitations_to_co_sign(
    deputy: User, cosigner: User, draft: Proposal, npc_session: ProposalSession
) -> None:
    theirs = services.create_draft(actor=cosigner, content=content(title="关于增设社区养老服务站的建议"))
    services.invite_cosigner(actor=cosigner, proposal_id=theirs.pk, deputy_id=deputy.pk)

    response = signed_in(deputy).get("/proposals/mine/")

    assert response.status_code == 200
    assertContains(response, "我的建议提案")
    assertContains(response, draft.title)
    assertContains(response, '<span class="chip status" data-status="draft">暂存</span>', html=True)
    assertContains(response, "附议邀请")
    assertContains(response, "关于增设社区养老服务站的建议")
    assertContains(response, '<button type="submit" name="sign" value="yes" class="primary">附议</button>', html=True)


def test_my_proposals_filters_live_in_the_url(deputy: User, draft: Proposal, npc_session: ProposalSession) -> None:
    other = services.create_draft(actor=deputy, content=content(title="关于加强校园周边交通安全的建议"))
    services.submit(actor=deputy, proposal_id=other.pk)
    client = signed_in(deputy)

    by_status = client.get("/proposals/mine/", {"status": "submitted"})
    by_words = client.get("/proposals/mine/", {"q": "校园"})

    assertContains(by_status, "关于加强校园周边交通安全的建议")
    assertNotContains(by_status, draft.title)
    assertContains(by_status, '<option value="submitted" selected>已提交</option>', html=True)
    assertContains(by_words, "关于加强校园周边交通安全的建议")
    assertNotContains(by_words, draft.title)


def test_my_proposals_never_shows_other_deputies_drafts(
    deputy: User, cosigner: User, npc_session: ProposalSession
) -> None:
    services.create_draft(actor=cosigner, content=content(title="张丽的草稿"))

    response = signed_in(deputy).get("/proposals/mine/")

    assertNotContains(response, "张丽的草稿")
    assertContains(response, "您还没有建议提案。")


@pytest.mark.parametrize("persona", ["handler", "staff", "expert"])
def test_my_proposals_is_for_deputies_only(persona: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(persona)

    assert signed_in(user).get("/proposals/mine/").status_code == 403
    assert signed_in(user).get("/proposals/new/").status_code == 403


def test_a_co_signer_signs_from_the_list_and_returns_to_it(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    response = act(signed_in(cosigner), draft, "cosign", {"sign": "yes", "return_to": "mine"})

    assertRedirects(response, "/proposals/mine/", fetch_redirect_response=False)
    assert CoSigner.objects.get(proposal=draft, deputy=cosigner).status == CoSignerStatus.SIGNED


def test_a_co_signer_declines_from_the_proposal_page(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    client = signed_in(cosigner)

    page = client.get(f"/proposals/{draft.pk}/")
    response = act(client, draft, "cosign", {"sign": "no"})

    assertContains(page, "邀请您附议")
    assert "cosign" in forms_on(page)
    assertRedirects(response, f"/proposals/{draft.pk}/", fetch_redirect_response=False)
    assert CoSigner.objects.get(proposal=draft, deputy=cosigner).status == CoSignerStatus.DECLINED


# --- new draft and editing ---------------------------------------------------------------------------------


def draft_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "关于在翠湖新村增设公交首末站的建议",
        "body": "翠湖新村居民出行不便，建议增设公交首末站。",
        "category": "交通",
        "publication_consent": "on",
        "publication_refusal_reason": "",
    }
    data.update(overrides)
    return data


def test_new_draft_form_is_in_chinese_with_categories_and_bureaus(
    deputy: User, npc_session: ProposalSession, bureau_b: Bureau
) -> None:
    response = signed_in(deputy).get("/proposals/new/")

    assert response.status_code == 200
    assertContains(response, "新建建议提案")
    assertContains(response, "案由")
    assertContains(response, '<option value="交通">交通</option>', html=True)
    assertContains(response, "市交通委")
    assertContains(response, "同意公开本件建议提案及其答复")
    assertContains(response, "保存草稿")
    assertNotContains(response, "目前没有正在受理的会议")


def test_saving_a_new_draft_creates_it_with_the_wished_bureaus(
    deputy: User, npc_session: ProposalSession, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    data = draft_form(wished_lead_bureau_id=bureau_b.pk, wished_co_bureau_ids=[bureau_a.pk])

    response = signed_in(deputy).post("/proposals/new/", data)

    proposal = Proposal.objects.get(proposer=deputy)
    assertRedirects(response, f"/proposals/{proposal.pk}/", fetch_redirect_response=False)
    assert (proposal.title, proposal.status, proposal.category) == (
        "关于在翠湖新村增设公交首末站的建议",
        "draft",
        "交通",
    )
    assert proposal.wished_lead_bureau == bureau_b
    assert list(proposal.wished_co_bureaus.all()) == [bureau_a]


def test_a_draft_without_a_subject_is_refused_beside_the_subject(deputy: User, npc_session: ProposalSession) -> None:
    response = signed_in(deputy).post("/proposals/new/", draft_form(title="  "), follow=True)  # 303 to the form

    assert response.status_code == 400
    assert field_error(response, "title") == "此项不能为空"
    assertContains(response, "翠湖新村居民出行不便", status_code=400)  # what they typed stays
    assert not Proposal.objects.exists()


def test_refusing_publication_needs_a_reason_beside_that_field(deputy: User, npc_session: ProposalSession) -> None:
    data = draft_form()
    del data["publication_consent"]

    response = signed_in(deputy).post("/proposals/new/", data, follow=True)

    assert response.status_code == 400
    assert field_error(response, "publication_refusal_reason") == "请说明不公开的理由"
    assert not Proposal.objects.exists()


def test_without_an_open_session_the_page_says_so_and_saving_is_refused(deputy: User, db: None) -> None:
    client = signed_in(deputy)

    page = client.get("/proposals/new/")
    response = client.post("/proposals/new/", draft_form(), follow=True)

    assertContains(page, "目前没有正在受理的会议")
    assert response.status_code == 400
    assert alerts(response) == ["目前没有正在受理的会议"]
    assert not Proposal.objects.exists()


def test_the_proposer_edits_the_draft(deputy: User, draft: Proposal) -> None:
    client = signed_in(deputy)

    page = client.get(f"/proposals/{draft.pk}/edit/")
    response = client.post(f"/proposals/{draft.pk}/edit/", draft_form(title="关于优化公交线路的建议（修改稿）"))

    assertContains(page, f'value="{draft.title}"')
    assertRedirects(response, f"/proposals/{draft.pk}/", fetch_redirect_response=False)
    assert Proposal.objects.get(pk=draft.pk).title == "关于优化公交线路的建议（修改稿）"


def test_an_edit_with_an_unknown_category_is_refused_and_the_draft_stays(deputy: User, draft: Proposal) -> None:
    response = signed_in(deputy).post(f"/proposals/{draft.pk}/edit/", draft_form(category="火星"), follow=True)

    assert response.status_code == 400
    assert "category" in text(response)
    assert field_error(response, "category")
    assert Proposal.objects.get(pk=draft.pk).category == "交通"


def test_others_cannot_edit_a_draft(deputy: User, cosigner: User, staff: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    assert signed_in(cosigner).get(f"/proposals/{draft.pk}/edit/").status_code == 403  # sees it, may not edit
    assert signed_in(staff).get(f"/proposals/{draft.pk}/edit/").status_code == 404  # a draft is the proposer's own


def test_a_submitted_proposal_is_no_longer_editable(deputy: User, submitted: Proposal) -> None:
    response = signed_in(deputy).get(f"/proposals/{submitted.pk}/edit/")

    assertRedirects(response, f"/proposals/{submitted.pk}/", fetch_redirect_response=False)


# --- the proposal page, for the proposer ------------------------------------------------------------------


def test_the_proposer_sees_the_draft_with_its_actions_timeline_and_live_banner(deputy: User, draft: Proposal) -> None:
    response = signed_in(deputy).get(f"/proposals/{draft.pk}/")

    assert response.status_code == 200
    assertContains(response, draft.title)
    assertContains(response, "办理过程")
    assertContains(response, "创建草稿")
    assertContains(response, f'data-live-topic="proposal" data-live-key="{draft.pk}"')
    assertContains(response, "已更新，点此刷新")
    assertContains(response, "frontend/proposal.js")
    assert forms_on(response) == {"invite_cosigner", "attach", "submit"}
    assertContains(response, f'href="/proposals/{draft.pk}/edit/"')


@pytest.mark.parametrize("persona", ["cosigner", "handler", "expert", "outsider"])
def test_a_draft_is_hidden_from_everyone_but_its_proposer(
    persona: str, draft: Proposal, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)

    assert signed_in(user).get(f"/proposals/{draft.pk}/").status_code == 404


def test_the_proposal_page_needs_a_sign_in(client: Client, draft: Proposal) -> None:
    response = client.get(f"/proposals/{draft.pk}/")

    assertRedirects(response, f"/accounts/login/?next=/proposals/{draft.pk}/")


def test_inviting_a_co_signer_of_the_same_chamber(deputy: User, cosigner: User, member: User, draft: Proposal) -> None:
    client = signed_in(deputy)

    page = client.get(f"/proposals/{draft.pk}/")
    response = act(client, draft, "invite_cosigner", {"deputy_id": cosigner.pk})

    assertContains(page, f'<option value="{cosigner.pk}">张丽（西江区代表团）</option>', html=True)
    assertNotContains(page, "李雪梅")  # a CPPCC member is not of this chamber
    assertContains(page, 'data-filter="输入姓名筛选"')
    assertRedirects(response, f"/proposals/{draft.pk}/", fetch_redirect_response=False)
    assert CoSigner.objects.get(proposal=draft).deputy == cosigner


def test_inviting_oneself_is_refused_beside_the_deputy_select(deputy: User, draft: Proposal) -> None:
    response = act(signed_in(deputy), draft, "invite_cosigner", {"deputy_id": deputy.pk})

    assert response.status_code == 400
    assert field_error(response, "deputy_id") == "附议人须为同一机关的其他代表委员"
    assert not CoSigner.objects.exists()


def test_submitting_with_an_unanswered_invitation_is_refused_with_the_reason(
    deputy: User, cosigner: User, draft: Proposal
) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    response = act(signed_in(deputy), draft, "submit")

    assert response.status_code == 400
    assert alerts(response) == ["以下附议人尚未附议：张丽（请等待，或将其移除）"]
    assert Proposal.objects.get(pk=draft.pk).status == Status.DRAFT


def test_dropping_the_co_signer_then_submitting(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    client = signed_in(deputy)

    dropped = act(client, draft, "drop_cosigner", {"deputy_id": cosigner.pk})
    sent = act(client, draft, "submit")

    assert dropped.status_code == 302
    assertRedirects(sent, f"/proposals/{draft.pk}/", fetch_redirect_response=False)
    assert Proposal.objects.get(pk=draft.pk).status == Status.SUBMITTED
    assertContains(client.get(f"/proposals/{draft.pk}/"), "已提交至机关。")


def test_only_the_proposer_may_submit_even_by_posting_directly(deputy: User, cosigner: User, draft: Proposal) -> None:
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)

    response = act(signed_in(cosigner), draft, "submit")

    assert response.status_code == 403
    assert alerts(response) == ["只有领衔人可以执行此操作"]
    assert Proposal.objects.get(pk=draft.pk).status == Status.DRAFT


def test_an_unknown_action_is_404(deputy: User, draft: Proposal) -> None:
    assert act(signed_in(deputy), draft, "explode").status_code == 404


def test_actions_only_take_posts(deputy: User, draft: Proposal) -> None:
    assert signed_in(deputy).get(f"/proposals/{draft.pk}/act/submit/").status_code == 405


def test_attaching_a_pdf_then_downloading_it(deputy: User, draft: Proposal) -> None:
    client = signed_in(deputy)
    upload = SimpleUploadedFile("调研报告.pdf", PDF, content_type="application/pdf")

    response = act(client, draft, "attach", {"file": upload})

    attachment = Attachment.objects.get(proposal=draft)
    assertRedirects(response, f"/proposals/{draft.pk}/", fetch_redirect_response=False)
    assert (attachment.name, attachment.content_type) == ("调研报告.pdf", "application/pdf")
    download = client.get(f"/proposals/{draft.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF  # type: ignore[attr-defined]


def test_a_file_of_a_wrong_type_is_refused_beside_the_file_field(deputy: User, draft: Proposal, media: Path) -> None:
    upload = SimpleUploadedFile("病毒.exe", b"MZ\x90\x00", content_type="application/octet-stream")

    response = act(signed_in(deputy), draft, "attach", {"file": upload})

    assert response.status_code == 400
    assert field_error(response, "file").startswith("不支持的文件类型")
    assertContains(response, 'enctype="multipart/form-data"', status_code=400)
    assert not Attachment.objects.exists()
    assert not any(path.is_file() for path in media.rglob("*"))


def test_a_file_too_large_is_refused_beside_the_file_field(deputy: User, draft: Proposal, settings: Settings) -> None:
    settings.PROPOSAL_RULES = {"attachment_max_bytes": 1024 * 1024}
    upload = SimpleUploadedFile("大文件.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")

    response = act(signed_in(deputy), draft, "attach", {"file": upload})

    assert response.status_code == 400
    assert field_error(response, "file") == "文件超过 1 MB"
    assert not Attachment.objects.exists()


def test_attachments_are_not_served_to_deputies_reading_a_published_proposal(
    deputy: User, cosigner: User, draft: Proposal
) -> None:
    attachment = services.attach(
        actor=deputy, proposal_id=draft.pk, name="a.pdf", size=len(PDF), stream=SimpleUploadedFile("a.pdf", PDF)
    )
    Proposal.objects.filter(pk=draft.pk).update(published_at=timezone.now())

    assert signed_in(cosigner).get(f"/proposals/{draft.pk}/").status_code == 200
    assert signed_in(cosigner).get(f"/proposals/{draft.pk}/attachments/{attachment.pk}/").status_code == 404


# --- the office: registration desk -------------------------------------------------------------------------


def test_the_registration_desk_lists_submitted_proposals(staff: User, submitted: Proposal, draft: Proposal) -> None:
    response = signed_in(staff).get("/office/registration/")

    assert response.status_code == 200
    assertContains(response, "立案审查")
    assertContains(response, submitted.title)
    assertContains(response, "一行失败不会撤销其他行")
    assertContains(response, f'name="selected" value="{submitted.pk}" form="bulk-form"')


@pytest.mark.parametrize("persona", ["deputy", "handler", "expert"])
def test_office_desks_are_refused_to_everyone_else(persona: str, request: pytest.FixtureRequest) -> None:
    client = signed_in(request.getfixturevalue(persona))

    for url in ("/office/registration/", "/office/assignment/", "/office/supervision/", "/office/statistics/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/office/registration/bulk/", {"selected": ["1"]}).status_code == 403


def test_registering_from_the_desk_numbers_it_and_returns_to_the_desk(staff: User, submitted: Proposal) -> None:
    response = act(signed_in(staff), submitted, "register", {"return_to": "registration"})

    assertRedirects(response, "/office/registration/", fetch_redirect_response=False)
    proposal = Proposal.objects.get(pk=submitted.pk)
    assert (proposal.status, proposal.code) == (Status.REGISTERED, "2027-建-0001")


def test_declining_without_a_reason_shows_the_error_on_the_desk_and_changes_nothing(
    staff: User, submitted: Proposal
) -> None:
    response = act(signed_in(staff), submitted, "decline_registration", {"reason": " ", "return_to": "registration"})

    assert response.status_code == 400
    assertContains(response, "立案审查", status_code=400)
    assert field_error(response, "reason") == "此项不能为空"
    assert Proposal.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_declining_with_a_reason(staff: User, submitted: Proposal) -> None:
    response = act(signed_in(staff), submitted, "decline_registration", {"reason": "不属于本市职权范围"})

    assert response.status_code == 302
    assert Proposal.objects.get(pk=submitted.pk).status == Status.NOT_REGISTERED


def test_merging_into_a_number(staff: User, deputy: User, registered: Proposal, npc_session: ProposalSession) -> None:
    second = services.create_draft(actor=deputy, content=content(title="关于东湖区公交线路的补充建议"))
    services.submit(actor=deputy, proposal_id=second.pk)

    response = act(signed_in(staff), second, "merge", {"into": "2027-建-0001", "reason": "内容相近"})

    assert response.status_code == 302
    merged = Proposal.objects.get(pk=second.pk)
    assert (merged.status, merged.merged_into_id) == (Status.MERGED, registered.pk)


def test_merging_into_an_unknown_number_is_refused_beside_the_number(staff: User, submitted: Proposal) -> None:
    response = act(signed_in(staff), submitted, "merge", {"into": "2027-建-0099"})

    assert response.status_code == 400
    assert field_error(response, "into") == "本次会议没有这个编号的建议提案。"
    assert Proposal.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_merging_into_itself_names_the_number_field(staff: User, registered: Proposal) -> None:
    response = act(signed_in(staff), registered, "merge", {"into": "1"})

    assert response.status_code == 400
    assert field_error(response, "into") == "不能与自身并案"


def test_turning_into_a_letter(staff: User, submitted: Proposal) -> None:
    response = act(signed_in(staff), submitted, "convert_to_letter", {"reason": "属于个人诉求"})

    assert response.status_code == 302
    assert Proposal.objects.get(pk=submitted.pk).status == Status.LETTER


def submit_three(deputy: User) -> list[Proposal]:
    made = []
    for title in ("关于增设停车位的建议", "关于延长地铁运营时间的建议", "关于优化学区划分的建议"):
        proposal = services.create_draft(actor=deputy, content=content(title=title))
        made.append(services.submit(actor=deputy, proposal_id=proposal.pk))
    return made


def test_bulk_registration_goes_row_by_row_and_reports_the_row_that_failed(
    staff: User, deputy: User, npc_session: ProposalSession
) -> None:
    first, second, third = submit_three(deputy)
    services.decline_registration(actor=staff, proposal_id=second.pk, reason="重复")  # meanwhile, by a colleague

    response = bulk(signed_in(staff), "/office/registration/bulk/", {"selected": [first.pk, second.pk, third.pk]})

    assert response.status_code == 200
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "registered", second.pk: "not_registered", third.pk: "registered"}
    assertContains(response, "批量处理结果")
    assertContains(response, "一行失败不会撤销其他行")
    assertContains(response, "2 行已完成")
    assertContains(response, "1 行失败")
    failed = re.findall(
        r"<li><strong>([^<]*)</strong>: <span class=\"error\" data-row-error>([^<]*)</span>", text(response)
    )
    assert failed == [("关于延长地铁运营时间的建议", "当前状态为“不予立案”，不能立案")]


def test_bulk_registration_of_good_rows_redirects_with_a_count(
    staff: User, deputy: User, npc_session: ProposalSession
) -> None:
    rows = submit_three(deputy)
    client = signed_in(staff)

    response = client.post("/office/registration/bulk/", {"selected": [p.pk for p in rows]})

    assertRedirects(response, "/office/registration/", fetch_redirect_response=False)
    assert set(Proposal.objects.values_list("number", flat=True)) == {1, 2, 3}
    assertContains(client.get("/office/registration/"), "已立案 3 件建议提案。")


def test_bulk_registration_without_a_selection_says_so(staff: User, submitted: Proposal) -> None:
    response = bulk(signed_in(staff), "/office/registration/bulk/", {})

    assert response.status_code == 400
    assert field_error(response, "selected") == "请至少选择一行。"


# --- the office: assignment desk ---------------------------------------------------------------------------


def test_the_assignment_desk_lists_registered_proposals_with_wished_bureaus(
    staff: User, deputy: User, npc_session: ProposalSession, bureau_b: Bureau
) -> None:
    proposal = services.create_draft(actor=deputy, content=content(wished_lead_bureau_id=bureau_b.pk))
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)

    response = signed_in(staff).get("/office/assignment/")

    assert response.status_code == 200
    assertContains(response, "交办")
    assertContains(response, proposal.title)
    assertContains(response, "市交通委")
    assertContains(response, "主办单位")


def test_bulk_assignment_gives_the_same_plan_to_each_row_and_reports_the_failed_one(
    staff: User, deputy: User, npc_session: ProposalSession, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    first, second, third = submit_three(deputy)
    for proposal in (first, third):
        services.register(actor=staff, proposal_id=proposal.pk)
    # ``second`` was never registered: it cannot be assigned

    data = {"selected": [first.pk, second.pk, third.pk], "lead": bureau_b.pk, "co": [bureau_a.pk]}
    response = bulk(signed_in(staff), "/office/assignment/bulk/", data)

    assert response.status_code == 200
    for proposal in (first, third):
        roles = set(Assignment.objects.filter(proposal=proposal).values_list("bureau_id", "role"))
        assert roles == {(bureau_b.pk, "lead"), (bureau_a.pk, "co")}
    assert not Assignment.objects.filter(proposal=second).exists()
    assertContains(response, "2 行已完成")
    assertContains(response, "当前状态为“已提交”，不能交办")


def test_bulk_assignment_without_a_lead_fails_every_row_and_keeps_the_plan(
    staff: User, registered: Proposal, bureau_a: Bureau
) -> None:
    response = bulk(signed_in(staff), "/office/assignment/bulk/", {"selected": [registered.pk], "co": [bureau_a.pk]})

    assert response.status_code == 400
    assertContains(response, "有会办单位时必须指定主办单位", status_code=400)
    assertContains(response, f'value="{bureau_a.pk}" id="id_plan_co_0" checked', status_code=400)
    assert not Assignment.objects.exists()


def test_assigning_one_proposal_from_its_page(staff: User, registered: Proposal, bureau_c: Bureau) -> None:
    client = signed_in(staff)
    page = client.get(f"/proposals/{registered.pk}/")

    response = act(client, registered, "assign", {"separate": [bureau_c.pk]})

    assert {"assign", "merge", "convert_to_letter"} <= forms_on(page)
    assert response.status_code == 302
    assert Assignment.objects.get(proposal=registered).role == "separate"


def test_assigning_with_no_bureau_is_refused_beside_the_lead(staff: User, registered: Proposal) -> None:
    response = act(signed_in(staff), registered, "assign", {})

    assert response.status_code == 400
    assert field_error(response, "lead") == "请指定主办单位或分办单位"
    assert Proposal.objects.get(pk=registered.pk).status == Status.REGISTERED


# --- the handler: work queue and handling -----------------------------------------------------------------


@pytest.fixture
def queue(
    deputy: User, staff: User, npc_session: ProposalSession, bureau_a: Bureau, bureau_b: Bureau, handler: User
) -> dict[str, Proposal]:
    """Three proposals for bureau B (late, soon, later) and one only for bureau C."""
    bureau_c = BureauFactory(code="fgw", name="市发展改革委")
    made = {}
    for key, title, lead in (
        ("later", "关于新建体育公园的建议", bureau_b),
        ("late", "关于治理噪声扰民的建议", bureau_b),
        ("other", "关于稳定物价的建议", bureau_c),
        ("soon", "关于增开夜间公交的建议", bureau_b),
    ):
        proposal = services.create_draft(actor=deputy, content=content(title=title))
        services.submit(actor=deputy, proposal_id=proposal.pk)
        services.register(actor=staff, proposal_id=proposal.pk)
        services.assign(actor=staff, proposal_id=proposal.pk, lead=lead.pk)
        made[key] = proposal
    today = timezone.localdate()
    Assignment.objects.filter(proposal=made["late"]).update(reply_due=today - timedelta(days=3))
    Assignment.objects.filter(proposal=made["soon"]).update(reply_due=today + timedelta(days=1))
    return made


def test_the_work_queue_shows_only_my_bureau_most_urgent_first(handler: User, queue: dict[str, Proposal]) -> None:
    response = signed_in(handler).get("/handling/")

    assert response.status_code == 200
    assertContains(response, "办理工作台")
    page = text(response)
    order = [page.index(queue[key].title) for key in ("late", "soon", "later")]
    assert order == sorted(order)
    assertNotContains(response, queue["other"].title)
    assert re.search(r'<tr data-urgency="overdue" data-assignment="\d+">', page)
    assert re.search(r'<tr data-urgency="soon" data-assignment="\d+">', page)
    assertContains(response, '<span class="num" data-count="overdue">1</span>', html=True)
    assertContains(response, '<span class="num" data-count="pending">3</span>', html=True)


def test_accepting_from_the_work_queue(handler: User, queue: dict[str, Proposal]) -> None:
    proposal = queue["late"]

    response = act(
        signed_in(handler), proposal, "accept_assignment", {"assignment_id": lead_of(proposal).pk, "return_to": "queue"}
    )

    assertRedirects(response, "/handling/", fetch_redirect_response=False)
    assert Proposal.objects.get(pk=proposal.pk).status == Status.HANDLING


@pytest.mark.parametrize("persona", ["deputy", "staff", "expert", "outsider"])
def test_the_work_queue_is_for_handlers_only(persona: str, request: pytest.FixtureRequest) -> None:
    assert signed_in(request.getfixturevalue(persona)).get("/handling/").status_code == 403


def test_a_handler_sees_accept_and_return_until_the_bureau_accepts(handler: User, assigned: Proposal) -> None:
    response = signed_in(handler).get(f"/proposals/{assigned.pk}/")

    assert response.status_code == 200
    assert forms_on(response) == {"accept_assignment", "return_assignment"}
    assertContains(response, "市交通委：主办单位")


def test_a_handler_of_another_bureau_does_not_see_the_proposal(
    handler: User, registered: Proposal, staff: User
) -> None:
    other = BureauFactory(code="fgw", name="市发展改革委")
    services.assign(actor=staff, proposal_id=registered.pk, lead=other.pk)

    assert signed_in(handler).get(f"/proposals/{registered.pk}/").status_code == 404


def test_returning_without_a_reason_is_refused_beside_the_reason(handler: User, assigned: Proposal) -> None:
    response = act(
        signed_in(handler), assigned, "return_assignment", {"assignment_id": lead_of(assigned).pk, "reason": ""}
    )

    assert response.status_code == 400
    assert field_error(response, "reason") == "此项不能为空"
    assert lead_of(assigned).status == "pending"


def test_returning_with_a_reason_gives_it_back_to_the_office(handler: User, assigned: Proposal) -> None:
    lead = lead_of(assigned)

    response = act(
        signed_in(handler), assigned, "return_assignment", {"assignment_id": lead.pk, "reason": "不属于本委职责"}
    )

    assert response.status_code == 302
    assert Assignment.objects.get(pk=lead.pk).status == "returned"
    assert Proposal.objects.get(pk=assigned.pk).status == Status.REGISTERED


def test_an_expert_of_the_bureau_reads_but_is_offered_nothing(
    expert: User, registered: Proposal, staff: User, bureau_a: Bureau
) -> None:
    services.assign(actor=staff, proposal_id=registered.pk, lead=bureau_a.pk)

    response = signed_in(expert).get(f"/proposals/{registered.pk}/")

    assert response.status_code == 200
    assert forms_on(response) == set()


def test_after_accepting_the_lead_is_offered_the_handling_forms(handler: User, accepted: Proposal) -> None:
    response = signed_in(handler).get(f"/proposals/{accepted.pk}/")

    assert {"record_communication", "request_extension", "draft_reply"} <= forms_on(response)
    assert "submit_opinion" not in forms_on(response)
    assert "submit_reply" not in forms_on(response)


def test_the_co_handler_is_offered_the_opinion_not_the_reply(handler_a: User, accepted: Proposal) -> None:
    response = signed_in(handler_a).get(f"/proposals/{accepted.pk}/")

    assert {"record_communication", "submit_opinion"} <= forms_on(response)
    assert not {"draft_reply", "request_extension"} & forms_on(response)


def test_recording_a_communication(handler: User, accepted: Proposal) -> None:
    data = {
        "assignment_id": lead_of(accepted).pk,
        "channel": "visit",
        "occurred_on": timezone.localdate().isoformat(),
        "summary": "走访翠湖新村，听取居民意见。",
    }

    response = act(signed_in(handler), accepted, "record_communication", data)

    assert response.status_code == 302
    assert Communication.objects.get(proposal=accepted).summary == "走访翠湖新村，听取居民意见。"


def test_a_communication_in_the_future_is_refused_beside_the_date(handler: User, accepted: Proposal) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {"assignment_id": lead_of(accepted).pk, "channel": "phone", "occurred_on": tomorrow, "summary": "x"}

    response = act(signed_in(handler), accepted, "record_communication", data)

    assert response.status_code == 400
    assert field_error(response, "occurred_on") == "沟通日期不能晚于今天"
    assert not Communication.objects.exists()


def test_the_co_handler_gives_its_opinion(handler_a: User, accepted: Proposal) -> None:
    response = act(
        signed_in(handler_a), accepted, "submit_opinion", {"assignment_id": co_of(accepted).pk, "body": "同意。"}
    )

    assert response.status_code == 302
    assert CoHandlerOpinion.objects.get().body == "同意。"


def test_an_extension_not_after_the_deadline_is_refused_beside_the_date(handler: User, accepted: Proposal) -> None:
    lead = lead_of(accepted)
    data = {"assignment_id": lead.pk, "requested_due": lead.reply_due, "reason": "需要调研"}

    response = act(signed_in(handler), accepted, "request_extension", data)

    assert response.status_code == 400
    assert field_error(response, "requested_due") == "延期日期必须晚于现有期限"
    assert not ExtensionRequest.objects.exists()


def test_the_reply_is_drafted_submitted_and_signed_off_through_the_pages(
    handler: User, handler_a: User, accepted: Proposal
) -> None:
    lead, co = lead_of(accepted), co_of(accepted)
    services.submit_opinion(actor=handler_a, proposal_id=accepted.pk, assignment_id=co.pk, body="同意。")
    client = signed_in(handler)
    reply = {
        "assignment_id": lead.pk,
        "outcome_class": "A",
        "body": "已增开区间车。",
        "contact_person": "刘芳",
        "contact_phone": "13800138001",
    }

    drafted = act(client, accepted, "draft_reply", reply)
    page = client.get(f"/proposals/{accepted.pk}/")
    submitted_reply = act(client, accepted, "submit_reply", {"assignment_id": lead.pk})
    co_page = signed_in(handler_a).get(f"/proposals/{accepted.pk}/")
    stored = Reply.objects.get()
    signed = act(signed_in(handler_a), accepted, "sign_off_reply", {"assignment_id": co.pk, "reply_id": stored.pk})

    assert drafted.status_code == 302
    assert "submit_reply" in forms_on(page)
    assertContains(page, "已增开区间车。")
    assert submitted_reply.status_code == 302
    assert "sign_off_reply" in forms_on(co_page)
    assert signed.status_code == 302
    assert Reply.objects.get().status == ReplyStatus.REVIEW


def test_a_reply_draft_without_a_class_is_refused_beside_the_class(handler: User, accepted: Proposal) -> None:
    data = {"assignment_id": lead_of(accepted).pk, "body": "答复", "contact_person": "刘芳", "contact_phone": "1"}

    response = act(signed_in(handler), accepted, "draft_reply", data)

    assert response.status_code == 400
    assert field_error(response, "outcome_class") == "请选择 A、B、C 或 D 类"
    assert not Reply.objects.exists()


def test_a_handler_cannot_act_for_another_bureau_by_posting_its_assignment(handler: User, accepted: Proposal) -> None:
    response = act(
        signed_in(handler), accepted, "submit_opinion", {"assignment_id": co_of(accepted).pk, "body": "冒名"}
    )

    assert response.status_code == 403
    assert alerts(response) == ["只有承办单位的承办人可以执行此操作"]
    assert not CoHandlerOpinion.objects.exists()


# --- the office: supervision -----------------------------------------------------------------------------


def test_the_supervision_desk_shows_overdue_extensions_and_replies_to_review(
    staff: User, handler: User, reply_in_review: Reply
) -> None:
    proposal = reply_in_review.proposal
    Assignment.objects.filter(pk=lead_of(proposal).pk).update(reply_due=timezone.localdate() - timedelta(days=1))

    response = signed_in(staff).get("/office/supervision/")

    assert response.status_code == 200
    assertContains(response, "督办")
    assertContains(response, '<span class="num" data-count="overdue">1</span>', html=True)
    assertContains(response, '<span class="num" data-count="reviews">1</span>', html=True)
    assertContains(response, "已将区间车列入今年计划。")
    assertContains(
        response, '<button type="submit" name="approve" value="yes" class="primary">审核通过并发送</button>', html=True
    )


def test_approving_an_extension_from_the_supervision_desk(staff: User, handler: User, accepted: Proposal) -> None:
    lead = lead_of(accepted)
    assert lead.reply_due is not None
    new_due = lead.reply_due + timedelta(days=20)
    request = services.request_extension(
        actor=handler, proposal_id=accepted.pk, assignment_id=lead.pk, requested_due=new_due, reason="需要调研"
    )
    client = signed_in(staff)

    desk = client.get("/office/supervision/")
    response = act(
        client, accepted, "decide_extension", {"request_id": request.pk, "approve": "yes", "return_to": "supervision"}
    )

    assertContains(desk, "需要调研")
    assertRedirects(response, "/office/supervision/", fetch_redirect_response=False)
    assert Assignment.objects.get(pk=lead.pk).reply_due == new_due
    assertContains(client.get("/office/supervision/"), "已批准延期。")


def test_reviewing_a_reply_can_change_its_class_and_sends_it(staff: User, deputy: User, reply_in_review: Reply) -> None:
    data = {"reply_id": reply_in_review.pk, "approve": "yes", "outcome_class": "C", "note": "改为C类"}

    response = act(signed_in(staff), reply_in_review.proposal, "review_reply", data)

    assert response.status_code == 302
    proposal = Proposal.objects.get(pk=reply_in_review.proposal_id)
    assert (proposal.status, proposal.outcome_class) == (Status.REPLIED, "C")


def test_returning_a_reply_for_revision(staff: User, reply_in_review: Reply) -> None:
    data = {"reply_id": reply_in_review.pk, "approve": "no", "outcome_class": "", "note": "请补充时间表"}

    response = act(signed_in(staff), reply_in_review.proposal, "review_reply", data)

    assert response.status_code == 302
    assert Reply.objects.get(pk=reply_in_review.pk).status == ReplyStatus.DRAFT


def test_the_deputy_reads_the_reply_with_its_class_and_rates_it(deputy: User, replied: Proposal) -> None:
    client = signed_in(deputy)
    reply = replied.replies.get()

    page = client.get(f"/proposals/{replied.pk}/")
    data = {"reply_id": reply.pk, "contact": "satisfied", "attitude": "satisfied", "result": "basically", "comment": ""}
    response = act(client, replied, "rate_reply", data)

    assertContains(page, "已将区间车列入今年计划。")
    assertContains(page, "B类：正在解决或列入计划解决")
    assertContains(page, "联系沟通")
    assertContains(page, "办理态度")
    assertContains(page, "办理结果")
    assert "rate_reply" in forms_on(page)
    assert response.status_code == 302
    assert Feedback.objects.get().result == "basically"
    assert "rate_reply" not in forms_on(client.get(f"/proposals/{replied.pk}/"))


def test_a_rating_left_blank_is_refused_beside_the_first_blank(deputy: User, replied: Proposal) -> None:
    reply = replied.replies.get()

    response = act(signed_in(deputy), replied, "rate_reply", {"reply_id": reply.pk, "contact": "satisfied"})

    assert response.status_code == 400
    assert field_error(response, "attitude") == "请选择满意、基本满意或不满意"
    assert not Feedback.objects.exists()


def test_a_handler_is_never_offered_to_rate(handler: User, replied: Proposal) -> None:
    assert "rate_reply" not in forms_on(signed_in(handler).get(f"/proposals/{replied.pk}/"))


def test_an_unsatisfied_rating_is_confirmed_from_the_supervision_desk(
    staff: User, deputy: User, replied: Proposal
) -> None:
    rate(deputy, replied, result="unsatisfied", comment="站点问题未解决")
    client = signed_in(staff)

    desk = client.get("/office/supervision/")
    response = act(
        client, replied, "review_dissatisfaction", {"confirm": "yes", "reason": "", "return_to": "supervision"}
    )
    confirmed = act(
        client,
        replied,
        "review_dissatisfaction",
        {"confirm": "yes", "reason": "请给出时间表", "return_to": "supervision"},
    )

    assertContains(desk, "站点问题未解决")
    assert response.status_code == 400
    assert field_error(response, "reason") == "此项不能为空"
    assert confirmed.status_code == 302
    assert Proposal.objects.get(pk=replied.pk).status == Status.REHANDLING


def test_publishing_a_reply_strips_contact_details(staff: User, replied: Proposal) -> None:
    reply = replied.replies.get()

    response = act(signed_in(staff), replied, "publish", {"reply_id": reply.pk, "public_body": "请致电13800138001。"})

    assert response.status_code == 302
    assert Reply.objects.get(pk=reply.pk).public_body == "请致电【已隐去】。"


def test_publishing_without_consent_is_refused_with_the_reason(staff: User, replied: Proposal, deputy: User) -> None:
    Proposal.objects.filter(pk=replied.pk).update(publication_consent=False, publication_refusal_reason="涉及个人")
    reply = replied.replies.get()

    response = act(signed_in(staff), replied, "publish", {"reply_id": reply.pk})

    assert response.status_code == 400
    assert alerts(response) == ["领衔人不同意公开"]
    assert Reply.objects.get(pk=reply.pk).public_body == ""


def test_closing_and_paper_feedback_from_the_office(staff: User, deputy: User, replied: Proposal) -> None:
    reply = replied.replies.get()
    client = signed_in(staff)
    paper = {"reply_id": reply.pk, "rater_id": deputy.pk, "contact": "satisfied", "attitude": "satisfied"}

    refused = act(client, replied, "record_paper_feedback", {**paper, "result": ""})
    recorded = act(client, replied, "record_paper_feedback", {**paper, "result": "satisfied"})

    assert refused.status_code == 400
    assert field_error(refused, "result") == "请选择满意、基本满意或不满意"
    assert recorded.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.rater, feedback.on_paper) == (deputy, True)


def test_closing_needs_a_reason(staff: User, replied: Proposal) -> None:
    client = signed_in(staff)

    refused = act(client, replied, "close", {"reason": ""})
    closed = act(client, replied, "close", {"reason": "反馈期已满"})

    assert refused.status_code == 400
    assert field_error(refused, "reason") == "此项不能为空"
    assert closed.status_code == 302
    assert Proposal.objects.get(pk=replied.pk).status == Status.CLOSED


# --- statistics -----------------------------------------------------------------------------------------


def test_statistics_show_the_rates_overall_and_per_bureau(staff: User, deputy: User, replied: Proposal) -> None:
    rate(deputy, replied)

    response = signed_in(staff).get("/office/statistics/", {"year": 2027})

    assert response.status_code == 200
    assertContains(response, "2027 年办理统计")
    for label in ("办复率", "按时办复率", "沟通率", "满意率"):
        assertContains(response, label)
    assertContains(response, '<span class="num" data-stat="reply_rate">100.0%</span>', html=True)
    assertContains(response, '<span class="num" data-stat="satisfaction_rate">100.0%</span>', html=True)
    table = re.search(r'<table class="grid numbers" id="bureau-figures">.*?</table>', text(response), re.S)
    assert table is not None
    assert "市交通委" in table.group(0)


def test_statistics_of_a_year_without_proposals_show_dashes(staff: User, npc_session: ProposalSession) -> None:
    response = signed_in(staff).get("/office/statistics/")

    assert response.status_code == 200
    assertContains(response, '<span class="num" data-stat="reply_rate">—</span>', html=True)
    assertContains(response, "本年度没有交办的建议提案。")


def test_statistics_refuse_a_year_not_offered(staff: User, npc_session: ProposalSession) -> None:
    assert signed_in(staff).get("/office/statistics/", {"year": "1999"}).status_code == 400


# --- the whole page in English, for the record -------------------------------------------------------------


def test_the_proposal_page_switches_to_english(deputy: User, draft: Proposal) -> None:
    client = signed_in(deputy)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    response = client.get(f"/proposals/{draft.pk}/")

    assertContains(response, "Timeline")
    assertContains(response, "Submit to the office")
    assertNotContains(response, "办理过程")


def test_a_cppcc_member_invites_only_members(member: User, cppcc_session: ProposalSession, deputy: User) -> None:
    other = DeputyProfileFactory(
        user__username="member2", user__full_name="周敏", chamber="cppcc", delegation="", sector="教育界"
    ).user
    proposal = services.create_draft(actor=member, content=content())

    page = signed_in(member).get(f"/proposals/{proposal.pk}/")

    assertContains(page, f'<option value="{other.pk}">周敏（教育界）</option>', html=True)
    assertNotContains(page, "王建国")


def test_a_handler_without_the_lead_role_still_works_the_queue(bureau_b: Bureau, assigned: Proposal) -> None:
    colleague = HandlerProfileFactory(user__username="colleague", user__full_name="吴磊", bureau=bureau_b).user

    response = signed_in(colleague).get("/handling/")

    assertContains(response, assigned.title)


def test_the_lead_sends_the_follow_up_reply_once_a_b_reply_was_rated(
    handler: User, deputy: User, replied: Proposal
) -> None:
    rate(deputy, replied)  # everyone rated a class B reply: follow-up (跟踪办理)
    client = signed_in(handler)
    lead = replied.assignments.get(role="lead")

    page = client.get(f"/proposals/{replied.pk}/")
    empty = act(client, replied, "send_follow_up_reply", {"assignment_id": lead.pk, "outcome_class": "A", "body": ""})
    sent = act(
        client,
        replied,
        "send_follow_up_reply",
        {"assignment_id": lead.pk, "outcome_class": "A", "body": "区间车已开通。"},
    )

    assert Proposal.objects.get(pk=replied.pk).status == Status.CLOSED
    assert "send_follow_up_reply" in forms_on(page)
    assert empty.status_code == 400
    assert field_error(empty, "body") == "此项不能为空"
    assert sent.status_code == 302


def test_a_deputy_reading_a_published_proposal_sees_the_published_text_only(
    staff: User, cosigner: User, replied: Proposal
) -> None:
    reply = replied.replies.get()
    services.publish(actor=staff, proposal_id=replied.pk, reply_id=reply.pk, public_body="经研究，已列入计划。")

    response = signed_in(cosigner).get(f"/proposals/{replied.pk}/")

    assert response.status_code == 200
    assertContains(response, "经研究，已列入计划。")
    assertNotContains(response, "13800138001")  # the bureau's contact phone is not for the public
    assertNotContains(response, "电话联系王建国代表。")  # nor the communication records
    assert forms_on(response) == set()


@pytest.mark.parametrize(
    "url",
    [
        "/proposals/mine/",
        "/proposals/new/",
        "/handling/",
        "/office/registration/",
        "/office/assignment/",
        "/office/supervision/",
        "/office/statistics/",
    ],
)
def test_every_proposal_page_needs_a_sign_in(client: Client, db: None, url: str) -> None:
    assertRedirects(client.get(url), f"/accounts/login/?next={url}")


def test_a_merged_proposal_and_its_primary_point_at_each_other(
    staff: User, deputy: User, cosigner: User, registered: Proposal
) -> None:
    second = services.create_draft(actor=cosigner, content=content(title="关于东湖区公交线路的补充建议"))
    services.submit(actor=cosigner, proposal_id=second.pk)
    services.merge(actor=staff, proposal_id=second.pk, into_id=registered.pk)

    primary = signed_in(staff).get(f"/proposals/{registered.pk}/")
    merged = signed_in(cosigner).get(f"/proposals/{second.pk}/")

    assertContains(primary, "并入本件")
    assertContains(primary, f'<a href="/proposals/{second.pk}/">关于东湖区公交线路的补充建议</a>', html=True)
    assertContains(merged, "已并入")
    assertContains(merged, f'href="/proposals/{registered.pk}/"')
    assert signed_in(cosigner).get(f"/proposals/{registered.pk}/").status_code == 200  # its reply is theirs too


def test_a_signed_co_signer_of_a_merged_proposal_can_open_the_primary_to_rate_it(
    staff: User, cosigner: User, registered: Proposal
) -> None:
    other = DeputyProfileFactory(user__username="third", user__full_name="孙强").user
    second = services.create_draft(actor=other, content=content(title="关于东湖区公交线路的补充建议"))
    services.invite_cosigner(actor=other, proposal_id=second.pk, deputy_id=cosigner.pk)
    services.cosign(actor=cosigner, proposal_id=second.pk, sign=True)
    services.submit(actor=other, proposal_id=second.pk)
    services.merge(actor=staff, proposal_id=second.pk, into_id=registered.pk)

    assert signed_in(cosigner).get(f"/proposals/{registered.pk}/").status_code == 200


# --- error messages a person reads ----------------------------------------------------------------------


def test_a_refused_transition_names_the_action_in_words(staff: User, submitted: Proposal) -> None:
    services.decline_registration(actor=staff, proposal_id=submitted.pk, reason="重复")

    response = act(signed_in(staff), submitted, "register")

    assert response.status_code == 409
    assert not re.search(r"[A-Za-z_]{3,}", " ".join(alerts(response)))
