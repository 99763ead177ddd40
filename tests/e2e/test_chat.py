"""A live consultation in two Chromium pages: an expert at the office, a deputy on a phone.

The expert opens the workbench (the live socket makes them present); the deputy asks 市教委 and both land in
the room. They talk; then the deputy's phone loses the network, the deputy writes twice (shown as 发送中)
while the expert writes once; back online, the deputy's two messages are delivered once each and both pages
end with the same numbered thread as the database: nothing lost, nothing doubled.

The people are committed before Chromium starts (tests/e2e/conftest.py); while Playwright runs, the ORM is
only used from another thread (``read_db``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chat.models import Message
from consult.desk import services as desk
from consult.models import Bureau, User
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context
from tests.e2e.test_login import png_size, sign_in
from tests.e2e.test_proposal_journey import read_db

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TOPIC = "学区划分调整后老生能否原校就读"


def signed_in(browser: Browser, server: LiveServer, username: str, password: str, *, phone: bool) -> Page:
    page = open_context(browser, server, **(PHONE if phone else DESKTOP)).new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    return page


@pytest.fixture
def people(transactional_db: None, deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    """王建国 (deputy) and 陈志远 (expert of 市教委), committed for the Daphne process."""


@pytest.fixture
def two_pages(people: None, browser: Browser, daphne_server: LiveServer, password: str) -> Iterator[tuple[Page, Page]]:
    deputy = signed_in(browser, daphne_server, "deputy", password, phone=True)
    expert = signed_in(browser, daphne_server, "expert", password, phone=False)
    try:
        yield deputy, expert
    finally:
        deputy.context.close()
        expert.context.close()


def thread(page: Page) -> list[tuple[int, str]]:
    """The numbered messages the page shows, in order: (seq, text)."""
    rows = page.locator("[data-chat-log] > li").evaluate_all(
        "items => items.map(li => [Number(li.dataset.seq), li.querySelector('.body, .text').textContent])"
    )
    return [(int(seq), body) for seq, body in rows]


def stored(consultation_id: int) -> list[tuple[int, str]]:
    return read_db(
        lambda: list(Message.objects.filter(consultation_id=consultation_id).order_by("seq").values_list("seq", "body"))
    )


def say(page: Page, body: str) -> None:
    page.get_by_label("消息", exact=True).fill(body)
    page.get_by_role("button", name="发送", exact=True).click()


def mine_delivered(page: Page, body: str) -> None:
    """The message is numbered on the page (acked or broadcast), not pending."""
    expect(page.locator("[data-chat-log] > li.mine", has_text=body)).to_have_count(1)


def test_two_people_talk_and_a_dead_network_loses_and_doubles_nothing(
    two_pages: tuple[Page, Page], daphne_server: LiveServer, tmp_path: Path
) -> None:
    deputy, expert = two_pages

    # The expert opens the workbench: the live socket makes them present.
    expert.locator("nav.mainnav").get_by_role("link", name="咨询工作台").click()
    expect(expert.locator("[data-presence]")).to_have_attribute("data-presence", "online")
    expert.screenshot(path=tmp_path / "expert-workbench.png", full_page=True)

    # The deputy sees 市教委 with one expert online and asks it.
    deputy.locator("nav.mainnav").get_by_role("link", name="在线咨询").click()
    expect(deputy.locator("#bureaus li", has_text="市教委")).to_contain_text("1 人在线")
    deputy.get_by_label("委办局", exact=True).select_option(label="市教委")
    expect(deputy.locator("label.expert", has_text="陈志远").locator(".dot")).to_have_attribute("data-online", "1")
    deputy.get_by_label("您想咨询什么问题？").fill(TOPIC)
    deputy.screenshot(path=tmp_path / "deputy-desk.png", full_page=True)
    deputy.get_by_role("button", name="开始咨询").click()
    deputy.wait_for_url(re.compile(r"/desk/consultations/\d+/$"))
    room = deputy.url.removeprefix(daphne_server.url)
    consultation_id = int(room.strip("/").split("/")[-1])
    expect(deputy.locator("[data-room-status]")).to_have_text("咨询中")
    expect(deputy.locator("[data-room-expert]")).to_contain_text("陈志远")

    # The expert's workbench lists it at once (consultation.assigned); the expert opens the room.
    expert.locator("#active").get_by_role("link", name=TOPIC).click()
    expect(expert).to_have_url(f"{daphne_server.url}{room}")
    expect(expert.locator("#deputy-history")).to_contain_text("王建国")
    expect(expert.locator("[data-connection]")).to_have_attribute("data-state", "open")
    expect(deputy.locator("[data-connection]")).to_have_attribute("data-state", "open")

    # They talk.
    say(deputy, "您好，我想了解学区调整的过渡安排。")
    expect(expert.locator("[data-chat-log] > li", has_text="过渡安排")).to_have_count(1)
    say(expert, "您好！已在读的学生可以原校就读至毕业。")
    expect(deputy.locator("[data-chat-log] > li", has_text="原校就读至毕业")).to_have_count(1)
    mine_delivered(deputy, "过渡安排")
    expect(deputy.locator("li.mine .receipt").first).to_have_text(" · 已读")  # the expert's page was looking

    # The deputy's phone loses the network and writes twice: both wait as 发送中.
    deputy.context.set_offline(True)
    expect(deputy.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    say(deputy, "那新入学的弟弟妹妹怎么办？")
    say(deputy, "能否随兄姐就读？")
    pending = deputy.locator("[data-chat-pending] > li")
    expect(pending).to_have_count(2)
    expect(pending.first).to_contain_text("发送中")
    expect(pending.nth(1)).to_contain_text("能否随兄姐就读？")
    # Meanwhile the expert writes once.
    say(expert, "另外，今年的划片方案下周公示。")
    mine_delivered(expert, "下周公示")
    shoot_offline = tmp_path / "deputy-offline.png"
    deputy.screenshot(path=shoot_offline)

    # Back online: the two are delivered once, the expert's line arrives, both threads agree with the database.
    deputy.context.set_offline(False)
    expect(pending).to_have_count(0)
    expect(deputy.locator("[data-connection]")).to_have_attribute("data-state", "open")
    for body in ("那新入学的弟弟妹妹怎么办？", "能否随兄姐就读？"):
        mine_delivered(deputy, body)
        expect(expert.locator("[data-chat-log] > li", has_text=body)).to_have_count(1)
    expect(deputy.locator("[data-chat-log] > li", has_text="下周公示")).to_have_count(1)
    expect(expert.locator("li.mine", has_text="下周公示").locator(".receipt")).to_have_text(" · 已读")

    database = stored(consultation_id)
    expect(deputy.locator("[data-chat-log] > li")).to_have_count(len(database))
    expect(expert.locator("[data-chat-log] > li")).to_have_count(len(database))
    assert thread(deputy) == database
    assert thread(expert) == database
    assert [seq for seq, _ in database] == list(range(1, len(database) + 1))
    bodies = [body for _, body in database]
    assert bodies.count("那新入学的弟弟妹妹怎么办？") == 1
    assert bodies.count("能否随兄姐就读？") == 1
    assert bodies.index("那新入学的弟弟妹妹怎么办？") < bodies.index("能否随兄姐就读？")
    assert deputy.evaluate("localStorage.length") == 0  # nothing left waiting to be sent

    # Nothing wider than the phone; the composer is at the bottom of the screen.
    assert deputy.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]  # type: ignore[index]
    composer = deputy.locator("[data-chat-form]").bounding_box()
    assert composer is not None
    assert composer["y"] + composer["height"] >= PHONE["viewport"]["height"] - 2  # type: ignore[index]

    for name, page in (("deputy-room", deputy), ("expert-room", expert)):
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=shot)
        width, _height = png_size(shot)
        assert width == (390 if page is deputy else 1280)
        assert shot.stat().st_size > 10_000

    # The deputy ends it (after a confirmation) and rates it; the expert's page follows and offers the outcome.
    deputy.once("dialog", lambda dialog: dialog.accept())
    deputy.get_by_role("button", name="结束咨询").click()
    expect(deputy.locator("p.flash")).to_contain_text("咨询已结束。")
    expect(deputy.locator("[data-room-status]")).to_have_text("已结束")
    expect(expert.locator("[data-chat-form]")).to_be_hidden()
    expect(expert.locator("[data-chat-ended]")).to_be_visible()
    expect(expert.locator("form[data-form=outcome]")).to_be_visible()
    rate = deputy.locator("form[data-form=rate]")
    rate.locator("label[for=id_rate_rating_4]").click()
    rate.get_by_label("意见").fill("答复清楚，谢谢！")
    rate.get_by_role("button", name="提交评价").click()
    expect(deputy.locator("p.flash")).to_contain_text("您的评价已记录")
    expect(deputy.locator("#id_rate_rating_4")).to_be_checked()
    deputy.screenshot(path=tmp_path / "deputy-rated.png", full_page=True)
    outcome = expert.locator("form[data-form=outcome]")
    outcome.get_by_label("转为建议").check()
    outcome.get_by_role("button", name="保存结果").click()
    expect(expert.locator("p.flash")).to_contain_text("咨询结果已记录。")
    expert.screenshot(path=tmp_path / "expert-ended.png", full_page=True)


@pytest.fixture
def consultation_in_progress(people: None, deputy: User, expert: User, bureau_a: Bureau) -> int:
    """王建国's consultation, already taken by 陈志远 (committed before Chromium starts)."""
    desk.expert_connected(actor=expert)
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic=TOPIC)
    desk.route_bureau(bureau_id=bureau_a.pk)
    consultation.refresh_from_db()
    assert consultation.expert is not None
    desk.expert_disconnected(actor=expert)
    return consultation.pk


def test_typing_editing_withdrawing_and_a_message_kept_across_a_closed_tab(
    consultation_in_progress: int, two_pages: tuple[Page, Page], daphne_server: LiveServer, tmp_path: Path
) -> None:
    deputy, expert = two_pages
    room = f"/desk/consultations/{consultation_in_progress}/"
    for page in (deputy, expert):
        page.goto(room)
        expect(page.locator("[data-connection]")).to_have_attribute("data-state", "open")

    # 对方正在输入…
    deputy.get_by_label("消息", exact=True).fill("我想问")
    expect(expert.locator("[data-typing]")).to_be_visible()
    expect(expert.locator("[data-typing]")).to_have_text("对方正在输入…")

    # Sent, then edited within the window, then withdrawn: both pages follow, the number stays.
    say(deputy, "过渡期有多长")
    mine_delivered(deputy, "过渡期有多长")
    expect(expert.locator("[data-chat-log] > li", has_text="过渡期有多长")).to_have_count(1)
    expect(expert.locator("[data-typing]")).to_be_hidden()
    deputy.locator("li.mine .bubble", has_text="过渡期有多长").click()
    deputy.get_by_role("button", name="编辑", exact=True).click()
    expect(deputy.locator("[data-editing]")).to_be_visible()
    deputy.get_by_label("消息", exact=True).fill("已在读的学生能否原校就读至毕业？")
    deputy.get_by_role("button", name="发送", exact=True).click()
    for page in (deputy, expert):
        edited = page.locator("[data-chat-log] > li", has_text="已在读的学生能否原校就读至毕业？")
        expect(edited).to_contain_text("已编辑")
    seq = deputy.locator("li.mine", has_text="原校就读至毕业").get_attribute("data-seq")
    deputy.once("dialog", lambda dialog: dialog.accept())
    deputy.locator("li.mine .bubble", has_text="原校就读至毕业").click()
    deputy.get_by_role("button", name="撤回", exact=True).click()
    for page in (deputy, expert):
        expect(page.locator(f"[data-chat-log] > li[data-seq='{seq}']")).to_have_text(re.compile("消息已撤回"))
    stored_now = dict(stored(consultation_in_progress))
    assert stored_now[int(seq or 0)] == ""

    # Written offline, the tab closed: the message waits in the browser and goes out once from the next tab.
    deputy.context.set_offline(True)
    expect(deputy.locator("[data-connection]")).to_have_attribute("data-state", "offline")
    say(deputy, "离线时写下的问题")
    expect(deputy.locator("[data-chat-pending] > li")).to_have_text(re.compile("发送中"))
    assert deputy.evaluate("Object.keys(localStorage).length") == 1
    context = deputy.context
    deputy.close()
    context.set_offline(False)
    again = context.new_page()
    again.goto(room)
    mine_delivered(again, "离线时写下的问题")
    expect(again.locator("[data-chat-pending] > li")).to_have_count(0)
    expect(expert.locator("[data-chat-log] > li", has_text="离线时写下的问题")).to_have_count(1)
    assert again.evaluate("localStorage.length") == 0
    database = stored(consultation_in_progress)
    assert [body for _, body in database].count("离线时写下的问题") == 1
    expect(again.locator("[data-chat-log] > li")).to_have_count(len(database))
    expect(expert.locator("[data-chat-log] > li")).to_have_count(len(database))
    assert [seq for seq, _ in thread(again)] == [seq for seq, _ in database]
    assert [seq for seq, _ in thread(expert)] == [seq for seq, _ in database]
    again.screenshot(path=tmp_path / "deputy-after-reopen.png")
    expert.screenshot(path=tmp_path / "expert-after-edits.png")
