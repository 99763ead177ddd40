"""The consultation desk's pages through Django's test client: each page per role, scoping, each form's
happy path and a refused one with the service's message beside the field (tests/e2e/test_chat.py walks
the chat itself in Chromium).

Live events and routing run after commit; these tests run inside one transaction, so routing is called
by hand where a consultation should be taken (``route``).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from chat import services as chat
from consult.desk import services as desk
from consult.models import (
    Bureau,
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ExpertPresence,
    Outcome,
    PresenceStatus,
    User,
)
from proposals.models import Proposal
from tests.factories import ExpertProfileFactory
from tests.frontend.test_pages import nav_labels, signed_in, text
from tests.proposals import conftest as proposal_fixtures

npc_session = proposal_fixtures.npc_session
draft = proposal_fixtures.draft


# --- helpers ---------------------------------------------------------------------------------------------


def present(expert: User) -> None:
    """The expert's live socket is open (what opening the workbench does)."""
    desk.expert_connected(actor=expert)


def ask(deputy: User, bureau: Bureau, topic: str = "学区划分调整咨询", **extra: int) -> Consultation:
    return desk.start_consultation(actor=deputy, bureau_id=bureau.pk, topic=topic, **extra)


def route(consultation: Consultation) -> Consultation:
    desk.route_bureau(bureau_id=consultation.bureau_id)
    consultation.refresh_from_db()
    return consultation


def error_beside(response: object, field: str) -> list[str]:
    """The messages shown beside one field (``<p class="error" data-field=...>``)."""
    return re.findall(rf'<p class="error" data-field="{field}">([^<]+)</p>', text(response))  # type: ignore[arg-type]


def alerts(response: object) -> list[str]:
    return re.findall(r'<p class="error" role="alert">([^<]+)</p>', text(response))  # type: ignore[arg-type]


@pytest.fixture
def colleague(bureau_a: Bureau) -> User:
    """A second expert of bureau A (市教委)."""
    return ExpertProfileFactory(user__username="colleague", user__full_name="孙悦", bureau=bureau_a).user


@pytest.fixture
def active(deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    """王建国 consults 市教委; 陈志远 is online and takes it."""
    present(expert)
    consultation = route(ask(deputy, bureau_a))
    assert consultation.status == ConsultationStatus.ACTIVE
    return consultation


@pytest.fixture
def ended(active: Consultation, deputy: User) -> Consultation:
    return desk.end_consultation(actor=deputy, consultation_id=active.pk)


# --- navigation --------------------------------------------------------------------------------------------


def test_each_role_finds_its_desk_page_in_the_navigation(deputy: User, expert: User, staff: User) -> None:
    assert "在线咨询" in nav_labels(signed_in(deputy).get("/"))
    assert "咨询工作台" in nav_labels(signed_in(expert).get("/"))
    assert "咨询统计" in nav_labels(signed_in(staff).get("/"))


def test_the_deputys_desk_link_counts_unread_messages(active: Consultation, deputy: User, expert: User) -> None:
    chat.post_message(actor=expert, consultation_id=active.pk, client_id="e-1", body="您好，请讲。")
    chat.post_message(actor=expert, consultation_id=active.pk, client_id="e-2", body="学区划分按户籍和居住年限。")

    response = signed_in(deputy).get("/")

    assertContains(response, 'data-desk-unread aria-label="未读消息">2</span>', html=False)

    chat.mark_read(actor=deputy, consultation_id=active.pk, seq=active.messages.order_by("-seq").first().seq)  # type: ignore[union-attr]
    assertNotContains(signed_in(deputy).get("/"), "data-desk-unread")


# --- the deputy's desk -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, db: None) -> None:
    for url in ("/desk/", "/desk/workbench/", "/desk/statistics/", "/desk/consultations/1/"):
        assertRedirects(client.get(url), f"/accounts/login/?next={url}")


def test_deputy_desk_shows_bureaus_with_their_experts_online(
    deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    present(expert)

    response = signed_in(deputy).get("/desk/")

    assert response.status_code == 200
    assertContains(response, "<h1>在线咨询</h1>", html=True)
    assertContains(response, "当前 1 位专家在线")
    page = text(response)
    counts = dict(re.findall(r'<li data-bureau="(\d+)"[^>]*>.*?data-online-count="(\d+)"', page, re.S))
    assert counts == {str(bureau_a.pk): "1", str(bureau_b.pk): "0"}
    assertContains(response, "您还没有发起过咨询")
    assertContains(response, "先选择委办局，即可查看并点名其专家。")


def test_choosing_a_bureau_lists_its_experts_with_online_dots(
    deputy: User, expert: User, colleague: User, bureau_a: Bureau
) -> None:
    present(expert)

    response = signed_in(deputy).get(f"/desk/?bureau={bureau_a.pk}")

    dots = re.findall(r'data-expert="(\d+)">.*?data-online="(\d)"', text(response), re.S)
    assert dots == [(str(expert.expert_profile.pk), "1"), (str(colleague.expert_profile.pk), "0")]
    assertContains(response, "由委办局安排在线专家")
    assertContains(response, f'<option value="{bureau_a.pk}" selected>市教委</option>', html=True)


def test_deputy_starts_a_consultation_and_lands_in_the_room_to_wait(deputy: User, bureau_a: Bureau) -> None:
    client = signed_in(deputy)

    response = client.post("/desk/start/", {"bureau_id": bureau_a.pk, "topic": "课后服务收费标准"})

    consultation = Consultation.objects.get(deputy=deputy)
    assertRedirects(response, f"/desk/consultations/{consultation.pk}/", fetch_redirect_response=False)
    assert consultation.status == ConsultationStatus.QUEUED
    room = client.get(response["Location"])
    assertContains(room, "咨询已发起。")
    assertContains(room, "排队第 1 位")
    assertContains(room, "等待专家接入")
    assertContains(room, "王建国 向市教委发起咨询：课后服务收费标准")  # the system line, in Chinese


def test_deputy_names_an_expert_and_links_a_proposal(
    deputy: User, expert: User, bureau_a: Bureau, draft: Proposal
) -> None:
    profile = expert.expert_profile
    form = {"bureau_id": bureau_a.pk, "expert_id": profile.pk, "topic": "学区划分", "proposal_id": draft.pk}

    response = signed_in(deputy).post("/desk/start/", form)

    consultation = Consultation.objects.get(deputy=deputy)
    assertRedirects(response, f"/desk/consultations/{consultation.pk}/")
    assert consultation.requested_expert == profile
    assert consultation.proposal == draft
    assertContains(signed_in(deputy).get(response["Location"]), "等待 陈志远 接入")


def test_starting_without_a_topic_shows_the_reason_beside_the_topic(deputy: User, bureau_a: Bureau) -> None:
    response = signed_in(deputy).post("/desk/start/", {"bureau_id": bureau_a.pk, "topic": "  "}, follow=True)

    assert response.status_code == 400
    assert error_beside(response, "topic") == ["请说明您要咨询的问题"]
    assert not Consultation.objects.exists()
    assertContains(response, f'<option value="{bureau_a.pk}" selected>市教委</option>', html=True, status_code=400)


def test_naming_an_expert_of_another_bureau_is_refused_beside_the_expert(
    deputy: User, expert: User, bureau_b: Bureau
) -> None:
    form = {"bureau_id": bureau_b.pk, "expert_id": expert.expert_profile.pk, "topic": "公交线路"}

    response = signed_in(deputy).post("/desk/start/", form, follow=True)

    assert response.status_code == 400
    assert error_beside(response, "expert_id") == ["该专家不属于此委办局"]


def test_my_consultations_show_the_live_queue_position(
    deputy: User, member: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    ask(member, bureau_a, "李雪梅的问题")
    mine = ask(deputy, bureau_a, "王建国的问题")

    response = signed_in(deputy).get("/desk/")

    assertContains(response, 'data-queue-position="2"')
    assertContains(response, "排队第 2 位")
    assertContains(response, f'href="/desk/consultations/{mine.pk}/"')
    assertNotContains(response, "李雪梅的问题")  # only my own


def test_other_roles_are_sent_to_their_own_desk_or_refused(
    expert: User, staff: User, handler: User, bureau_a: Bureau
) -> None:
    assertRedirects(signed_in(expert).get("/desk/"), "/desk/workbench/")
    assertRedirects(signed_in(staff).get("/desk/"), "/desk/statistics/")
    assert signed_in(handler).get("/desk/").status_code == 403
    assert signed_in(expert).post("/desk/start/", {"bureau_id": bureau_a.pk, "topic": "x"}).status_code == 403


# --- the room ----------------------------------------------------------------------------------------------


def test_deputy_sees_the_thread_the_expert_and_an_end_button(active: Consultation, deputy: User, expert: User) -> None:
    chat.post_message(actor=deputy, consultation_id=active.pk, client_id="d-1", body="<b>学区</b>怎么划？")

    response = signed_in(deputy).get(f"/desk/consultations/{active.pk}/")

    assert response.status_code == 200
    assertContains(response, "陈志远")
    assertContains(response, '<span class="chip status" data-status="active" data-room-status>咨询中</span>', html=True)
    assertContains(response, "&lt;b&gt;学区&lt;/b&gt;怎么划？")  # escaped, never markup
    assertContains(response, "市教委专家 陈志远 已接入")
    assertContains(response, 'data-form="end"')
    assertContains(response, "data-chat-form")
    assertNotContains(response, 'data-form="transfer"')
    assertNotContains(response, "deputy-history")
    seqs = [int(s) for s in re.findall(r'<li class="msg[^"]*" data-seq="(\d+)"', text(response))]
    assert seqs == [1, 2, 3]
    assertContains(response, '<script id="chat-initial" type="application/json">')


def test_expert_sees_the_deputys_history_and_a_transfer_form(
    active: Consultation, deputy: User, expert: User, colleague: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    earlier = Consultation.objects.create(
        deputy=deputy,
        bureau=bureau_b,
        topic="停车难问题",
        status=ConsultationStatus.ENDED,
        outcome=Outcome.FOLLOW_UP,
        outcome_note="下周回复",
        created_at=timezone.now() - timedelta(days=30),
    )

    response = signed_in(expert).get(f"/desk/consultations/{active.pk}/")

    assert response.status_code == 200
    assertContains(response, 'id="deputy-history"')
    assertContains(response, "王建国的咨询与建议记录")
    assertContains(response, earlier.topic)
    assertContains(response, "需跟进")
    assertContains(response, 'data-form="transfer"')
    assertContains(response, f'<option value="{colleague.expert_profile.pk}">孙悦 · 处长 · 离线</option>', html=True)
    assertContains(response, f'<option value="{bureau_b.pk}">市交通委</option>', html=True)
    assertNotContains(response, f'<option value="{bureau_a.pk}">市教委</option>', html=True)


def test_nobody_else_finds_the_room(
    active: Consultation, member: User, colleague: User, handler: User, staff: User
) -> None:
    url = f"/desk/consultations/{active.pk}/"
    for stranger in (member, colleague, handler):
        assert signed_in(stranger).get(url).status_code == 404
        assert signed_in(stranger).post(f"{url}end/").status_code == 404
    assert signed_in(member).get("/desk/consultations/999999/").status_code == 404

    office = signed_in(staff).get(url)  # the office reads, and cannot write
    assert office.status_code == 200
    assertContains(office, "您正在查阅本次咨询")
    assertNotContains(office, "data-chat-form")
    assertNotContains(office, 'data-form="end"')


def test_an_expert_reads_a_consultation_waiting_in_the_bureau_queue_but_cannot_write_yet(
    deputy: User, expert: User, bureau_a: Bureau
) -> None:
    waiting = ask(deputy, bureau_a, "课后服务时长")
    chat.post_message(actor=deputy, consultation_id=waiting.pk, client_id="d-1", body="放学后托管到几点？")

    bench = signed_in(expert).get("/desk/workbench/")
    assertContains(bench, f'<a class="title" href="/desk/consultations/{waiting.pk}/">课后服务时长</a>', html=True)
    response = signed_in(expert).get(f"/desk/consultations/{waiting.pk}/")

    assert response.status_code == 200
    assertContains(response, "课后服务时长")
    assertContains(response, 'data-can-read="1"')
    assertContains(response, 'data-can-post="0"')
    assertContains(response, "放学后托管到几点？")  # what the deputy wrote while waiting
    assertNotContains(response, "data-chat-form")
    assertContains(response, 'id="deputy-history"')


def test_deputy_ends_and_rates_the_consultation(active: Consultation, deputy: User) -> None:
    client = signed_in(deputy)
    url = f"/desk/consultations/{active.pk}/"

    assertRedirects(client.post(f"{url}end/"), url)
    room = client.get(url)
    assertContains(room, "咨询已结束。")
    assertContains(room, 'data-form="rate"')
    assertNotContains(room, 'data-form="end"')

    assertRedirects(client.post(f"{url}rate/", {"rating": "4", "comment": "答复清楚"}), url)
    active.refresh_from_db()
    assert (active.status, active.rating, active.rating_comment) == (ConsultationStatus.ENDED, 4, "答复清楚")
    assertContains(client.get(url), "修改评价")


def test_a_rating_without_stars_is_refused_beside_the_stars(ended: Consultation, deputy: User) -> None:
    response = signed_in(deputy).post(
        f"/desk/consultations/{ended.pk}/rate/", {"rating": "", "comment": "一般"}, follow=True
    )

    assert response.status_code == 400
    assert error_beside(response, "rating") == ["请评 1 至 5 星"]


def test_rating_before_the_end_is_a_conflict(active: Consultation, deputy: User) -> None:
    response = signed_in(deputy).post(f"/desk/consultations/{active.pk}/rate/", {"rating": "5"}, follow=True)

    assert response.status_code == 409
    assert alerts(response) == ["咨询结束后才能评价"]


def test_ending_twice_is_a_conflict(ended: Consultation, expert: User) -> None:
    response = signed_in(expert).post(f"/desk/consultations/{ended.pk}/end/", follow=True)

    assert response.status_code == 409
    assert alerts(response) == ["咨询已经结束"]


def test_expert_records_the_outcome_and_the_deputy_may_draft_a_proposal(
    ended: Consultation, deputy: User, expert: User
) -> None:
    url = f"/desk/consultations/{ended.pk}/"
    assertContains(signed_in(expert).get(url), 'data-form="outcome"')

    response = signed_in(expert).post(f"{url}outcome/", {"outcome": "proposal", "note": "建议形成书面建议"})

    assertRedirects(response, url)
    ended.refresh_from_db()
    assert (ended.outcome, ended.outcome_note) == (Outcome.PROPOSAL, "建议形成书面建议")
    room = signed_in(deputy).get(url)
    assertContains(room, "转为建议")
    assertContains(room, f'href="/proposals/new/?consultation={ended.pk}"')
    assertContains(room, "据此起草建议")


def test_an_outcome_must_be_chosen(ended: Consultation, expert: User) -> None:
    response = signed_in(expert).post(
        f"/desk/consultations/{ended.pk}/outcome/", {"outcome": "", "note": "x"}, follow=True
    )

    assert response.status_code == 400
    assert error_beside(response, "outcome") == ["请选择咨询结果"]


def test_the_deputy_cannot_record_an_outcome(ended: Consultation, deputy: User) -> None:
    response = signed_in(deputy).post(f"/desk/consultations/{ended.pk}/outcome/", {"outcome": "answered"}, follow=True)

    assert response.status_code == 403
    assert alerts(response) == ["仅负责此咨询的专家可以执行此操作"]
    ended.refresh_from_db()
    assert ended.outcome == ""


def test_expert_transfers_to_a_colleague(active: Consultation, expert: User, colleague: User) -> None:
    form = {"to_expert_id": colleague.expert_profile.pk, "to_bureau_id": "", "note": "孙处长更熟悉学区政策"}

    response = signed_in(expert).post(f"/desk/consultations/{active.pk}/transfer/", form)

    assertRedirects(response, "/desk/workbench/")
    active.refresh_from_db()
    assert active.status == ConsultationStatus.QUEUED
    assert active.requested_expert == colleague.expert_profile
    assert active.transfers.get().note == "孙处长更熟悉学区政策"
    after = signed_in(expert).get(f"/desk/consultations/{active.pk}/")  # handled before: still readable
    assert after.status_code == 200
    assertNotContains(after, "data-chat-form")


def test_a_transfer_needs_a_note(active: Consultation, expert: User, bureau_b: Bureau) -> None:
    form = {"to_expert_id": "", "to_bureau_id": bureau_b.pk, "note": ""}

    response = signed_in(expert).post(f"/desk/consultations/{active.pk}/transfer/", form, follow=True)

    assert response.status_code == 400
    assert error_beside(response, "note") == ["请说明转接原因"]
    assertContains(response, '<details class="more" open>', status_code=400)
    active.refresh_from_db()
    assert active.status == ConsultationStatus.ACTIVE


def test_an_unknown_action_is_not_found(active: Consultation, deputy: User) -> None:
    assert signed_in(deputy).post(f"/desk/consultations/{active.pk}/explode/").status_code == 404


# --- the expert's workbench -------------------------------------------------------------------------------


def test_workbench_shows_presence_my_consultations_with_unread_and_the_queue(
    active: Consultation, deputy: User, member: User, expert: User, colleague: User, bureau_a: Bureau
) -> None:
    chat.post_message(actor=deputy, consultation_id=active.pk, client_id="d-1", body="在吗？")
    ask(member, bureau_a, "医保报销", expert_id=colleague.expert_profile.pk)  # waits for 孙悦
    ask(member, bureau_a, "课后服务", expert_id=expert.expert_profile.pk)  # asks for me (not routed here)

    response = signed_in(expert).get("/desk/workbench/")

    assert response.status_code == 200
    assertContains(response, "在线：新咨询将分配给您。")
    assertContains(response, 'data-presence="online"')
    assertContains(response, f'href="/desk/consultations/{active.pk}/"')
    assertContains(response, 'data-unread="1"')
    # one named for a colleague (点将) is that colleague's while it waits (consult/desk/access.py, issue 11 item 7)
    assertNotContains(response, "医保报销")
    assertNotContains(response, "点名找 孙悦")
    assertContains(response, "课后服务")
    assertContains(response, "点名找您")
    assertContains(response, "已等待")
    assertContains(response, f'data-topics="bureau:{bureau_a.pk}"')


def test_expert_steps_away_and_back(expert: User) -> None:
    present(expert)
    client = signed_in(expert)

    assertRedirects(client.post("/desk/workbench/presence/", {"status": "away"}), "/desk/workbench/")
    assert ExpertPresence.objects.get(expert__user=expert).status == PresenceStatus.AWAY
    assertContains(client.get("/desk/workbench/"), "暂离：保留进行中的咨询，不接新咨询。")

    assertRedirects(client.post("/desk/workbench/presence/", {"status": "online"}), "/desk/workbench/")
    assert ExpertPresence.objects.get(expert__user=expert).status == PresenceStatus.ONLINE


def test_stepping_away_lasts_while_the_expert_moves_between_pages(expert: User) -> None:
    present(expert)
    client = signed_in(expert)
    client.post("/desk/workbench/presence/", {"status": "away"})

    desk.expert_disconnected(actor=expert)  # the workbench's live socket closes...
    desk.expert_connected(actor=expert)  # ...and the room's opens

    assert ExpertPresence.objects.get(expert__user=expert).status == PresenceStatus.AWAY
    assertContains(client.get("/desk/workbench/"), "暂离：保留进行中的咨询，不接新咨询。")


def test_a_deputy_who_gave_up_waiting_has_nobody_to_rate(deputy: User, bureau_a: Bureau) -> None:
    waiting = ask(deputy, bureau_a)
    desk.end_consultation(actor=deputy, consultation_id=waiting.pk)

    response = signed_in(deputy).get(f"/desk/consultations/{waiting.pk}/")

    assertContains(response, "本次咨询已结束。")
    assertNotContains(response, 'data-form="rate"')


def test_an_unknown_presence_is_refused_beside_the_switch(expert: User) -> None:
    response = signed_in(expert).post("/desk/workbench/presence/", {"status": "offline"}, follow=True)

    assert response.status_code == 400
    assert len(error_beside(response, "status")) == 1


def test_the_workbench_is_for_experts(deputy: User, staff: User, handler: User) -> None:
    for user in (deputy, staff, handler):
        assert signed_in(user).get("/desk/workbench/").status_code == 403
        assert signed_in(user).post("/desk/workbench/presence/", {"status": "online"}).status_code == 403


# --- the office's figures and periods --------------------------------------------------------------------


def test_office_sees_todays_figures_per_bureau(
    active: Consultation, deputy: User, member: User, expert: User, staff: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    desk.end_consultation(actor=expert, consultation_id=active.pk)
    desk.record_outcome(actor=expert, consultation_id=active.pk, outcome=Outcome.ANSWERED)
    ask(member, bureau_b, "公交线路")

    response = signed_in(staff).get("/desk/statistics/")

    assert response.status_code == 200
    stats = dict(re.findall(r'data-stat="(\w+)">([^<]+)<', text(response)))
    assert stats["consultations"] == "2"
    assert stats["deputies_served"] == "2"
    assert stats["answered_on_the_spot"] == "1"
    assert stats["waiting_now"] == "1"
    assert stats["average_wait"].endswith("秒")
    rows = re.findall(r'<tr data-bureau="(\d+)"><th[^>]*>([^<]+)</th><td[^>]*>(\d+)</td>', text(response))
    assert rows == [(str(bureau_a.pk), "市教委", "1"), (str(bureau_b.pk), "市交通委", "1")]
    # waiting, in progress and ended per bureau: the numbers the day's chart draws
    counts = re.findall(r'data-count="(\w+)">(\d+)<', text(response))
    assert counts == [
        ("waiting", "0"),
        ("active", "0"),
        ("ended", "1"),
        ("waiting", "1"),
        ("active", "0"),
        ("ended", "0"),
    ]
    assert 'id="chart-desk-day"' in text(response)


def test_office_opens_a_consultation_period(staff: User, expert: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    form = {
        "name": "2027年两会在线咨询",
        "starts_at": "2027-03-01T09:00",
        "ends_at": "2027-03-01T17:00",
        "bureau_ids": [bureau_a.pk, bureau_b.pk],
        "expert_ids": [expert.expert_profile.pk],
    }

    client = signed_in(staff)

    response = client.post("/desk/statistics/period/", form)

    assertRedirects(response, "/desk/statistics/", fetch_redirect_response=False)
    period = ConsultationPeriod.objects.get()
    assert period.name == "2027年两会在线咨询"
    assert timezone.localtime(period.starts_at).hour == 9
    assert set(period.bureaus.all()) == {bureau_a, bureau_b}
    assert list(period.experts.all()) == [expert.expert_profile]
    page = client.get("/desk/statistics/")
    assertContains(page, "咨询时段“2027年两会在线咨询”已开放。")
    assertContains(page, "2027-03-01 09:00 – 2027-03-01 17:00")


def test_a_period_that_ends_before_it_starts_is_refused_beside_the_end(staff: User, bureau_a: Bureau) -> None:
    form = {"name": "两会", "starts_at": "2027-03-01T17:00", "ends_at": "2027-03-01T09:00", "bureau_ids": [bureau_a.pk]}

    response = signed_in(staff).post("/desk/statistics/period/", form, follow=True)

    assert response.status_code == 400
    assert error_beside(response, "ends_at") == ["结束时间必须晚于开始时间"]
    assert not ConsultationPeriod.objects.exists()


def test_a_period_needs_a_bureau_on_duty(staff: User) -> None:
    form = {"name": "两会", "starts_at": "2027-03-01T09:00", "ends_at": "2027-03-01T17:00"}

    response = signed_in(staff).post("/desk/statistics/period/", form, follow=True)

    assert response.status_code == 400
    assert error_beside(response, "bureau_ids") == ["请至少选择一个值守委办局"]


def test_the_figures_are_for_the_office(deputy: User, expert: User, staff: User, bureau_a: Bureau) -> None:
    for user in (deputy, expert):
        assert signed_in(user).get("/desk/statistics/").status_code == 403
        form = {"name": "x", "starts_at": "2027-03-01T09:00", "ends_at": "2027-03-01T17:00"}
        assert signed_in(user).post("/desk/statistics/period/", form).status_code == 403
