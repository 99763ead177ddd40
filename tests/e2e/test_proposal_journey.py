"""One proposal walks its whole statutory cycle in the browser, every person signed in on their own device.

A deputy (王建国) writes a draft on his phone and has 张丽 co-sign it; the office (赵敏) registers it and
assigns it to 市交通委 (lead, 刘芳) with 市教委 (co-handler, 孙悦); after a recorded communication and the
co-handler's opinion the lead replies class B, the co-handler signs off and the office sends it. The deputy
rates the result 不满意, the office confirms, and re-handling starts with its own deadline; the lead replies
again (class A), the office sends it, both deputies rate 满意 and the proposal is 已办结.

The data is committed before Chromium starts (tests/e2e/conftest.py): while Playwright runs, the ORM may
only be used from another thread (``read_db``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import pytest
from django.db import connection
from playwright.sync_api import Browser, Locator, Page, expect

from consult.models import User
from proposals.models import Assignment, AssignmentRole, ProposalSession
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context
from tests.e2e.test_login import png_size, sign_in
from tests.proposals import conftest as proposal_fixtures

pytestmark = pytest.mark.e2e

npc_session = proposal_fixtures.npc_session
handler_a = proposal_fixtures.handler_a

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TITLE = "关于优化东湖区早晚高峰公交线路的建议"
BODY = "东湖区翠湖新村入住居民增多，早晚高峰公交满载率超过百分之一百二十。建议增开区间车并优化站点。"
T = TypeVar("T")


def read_db(query: Callable[[], T]) -> T:
    """Run an ORM read in a thread of its own: Playwright's loop in this one makes Django refuse."""

    def run() -> T:
        try:
            return query()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def round_two_reply_due(proposal_url: str) -> date:
    """The lead bureau's reply deadline of the re-handling round, as the database holds it."""
    pk = int(proposal_url.strip("/").split("/")[-1])
    due = Assignment.objects.get(proposal_id=pk, round=2, role=AssignmentRole.LEAD).reply_due
    assert due is not None
    return due


def signed_in(browser: Browser, server: LiveServer, username: str, password: str, *, phone: bool) -> Page:
    """A browser context of one's own (own cookies), signed in through the login page."""
    page = open_context(browser, server, **(PHONE if phone else DESKTOP)).new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    return page


def done(page: Page, message: str) -> None:
    """The action went through: the page it redirected to says so."""
    expect(page.locator("p.flash")).to_contain_text(message)


def action_form(page: Page, name: str) -> Locator:
    """The form of one action on the page, unfolded first when it sits in a closed <details>."""
    form = page.locator(f"form[data-form={name}]")
    fold = page.locator("details:not([open])", has=form)
    if fold.count():
        fold.locator("> summary").click()
    expect(form).to_be_visible()
    return form


def status_chip(page: Page) -> Locator:
    return page.locator(".chips.meta .chip.status")


def shoot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


# --- the steps, each by the person who takes it --------------------------------------------------------


def deputy_writes_and_invites(deputy: Page) -> str:
    deputy.goto("/proposals/new/")
    deputy.get_by_label("案由").fill(TITLE)
    deputy.get_by_label("正文").fill(BODY)
    deputy.get_by_label("类别").select_option("交通")
    deputy.get_by_role("button", name="保存草稿").click()
    deputy.wait_for_url(re.compile(r"/proposals/\d+/$"))
    done(deputy, "草稿已保存")
    invite = action_form(deputy, "invite_cosigner")
    invite.get_by_label("邀请的代表委员").select_option(label="张丽（西江区代表团）")
    invite.get_by_role("button", name="发送邀请").click()
    done(deputy, "附议邀请已发送")
    expect(deputy.locator("#cosigners .person-row", has_text="张丽")).to_contain_text("已邀请")
    return urlparse(deputy.url).path  # /proposals/<pk>/


def cosigner_signs(cosigner: Page) -> None:
    cosigner.goto("/proposals/mine/")
    invitation = cosigner.locator("#invitations li", has_text=TITLE)
    invitation.get_by_role("button", name="附议", exact=True).click()
    done(cosigner, "您已附议")
    expect(cosigner.locator("#invitations")).to_have_count(0)


def deputy_submits(deputy: Page, url: str) -> None:
    deputy.goto(url)
    expect(deputy.locator("#cosigners .person-row", has_text="张丽")).to_contain_text("已附议")
    action_form(deputy, "submit").get_by_role("button", name="提交至机关").click()
    done(deputy, "已提交至机关")
    expect(status_chip(deputy)).to_have_text("已提交")


def staff_registers_and_assigns(staff: Page) -> None:
    staff.goto("/office/registration/")
    staff.locator("tr", has_text=TITLE).get_by_role("button", name="立案").click()
    done(staff, "已立案")
    staff.goto("/office/assignment/")
    staff.get_by_role("checkbox", name=TITLE).check()
    staff.get_by_label("主办单位", exact=True).select_option(label="市交通委")
    staff.get_by_role("group", name="会办单位").get_by_label("市教委").check()
    staff.locator("#bulk-form").get_by_role("button", name="交办").click()
    done(staff, "已交办 1 件建议提案")


def handler_accepts(handler: Page) -> None:
    """签收 from the work queue, then open the proposal."""
    handler.goto("/handling/")
    handler.locator("tr", has_text=TITLE).get_by_role("button", name="签收").click()
    done(handler, "本单位已签收")
    handler.get_by_role("link", name=TITLE).click()
    expect(handler.locator("h1.proposal-title")).to_have_text(TITLE)


def lead_records_communication(lead: Page) -> None:
    form = action_form(lead, "record_communication")
    form.get_by_label("沟通方式").select_option(label="电话")
    form.get_by_label("沟通情况").fill("电话联系王建国代表，介绍翠湖新村公交线路调整方案，代表表示认可。")
    form.get_by_role("button", name="记录").click()
    done(lead, "沟通记录已保存")
    expect(lead.locator("#communications")).to_contain_text("电话")


def co_handler_gives_opinion(co: Page) -> None:
    form = action_form(co, "submit_opinion")
    form.get_by_label("给主办单位的会办意见").fill("同意增开区间车，建议错开学校上下学时段。")
    form.get_by_role("button", name="送主办单位").click()
    done(co, "会办意见已送主办单位")


def lead_replies(lead: Page, url: str, outcome: str, body: str) -> None:
    lead.goto(url)
    draft = action_form(lead, "draft_reply")
    draft.get_by_label(outcome).check()
    draft.get_by_label("答复", exact=True).fill(body)
    draft.get_by_label("联系人").fill("刘芳")
    draft.get_by_label("联系电话").fill("0571-87001234")
    draft.get_by_role("button", name="保存草稿").click()
    done(lead, "答复草稿已保存")
    action_form(lead, "submit_reply").get_by_role("button", name="提交答复").click()
    done(lead, "答复已提交")
    expect(status_chip(lead)).to_have_text("答复审核中")


def co_handler_signs_off(co: Page, url: str) -> None:
    co.goto(url)
    action_form(co, "sign_off_reply").get_by_role("button", name="会签").click()
    done(co, "本单位已会签")


def staff_sends_reply(staff: Page) -> None:
    staff.goto("/office/supervision/")
    staff.locator("#reviews li", has_text=TITLE).get_by_role("button", name="审核通过并发送").click()
    done(staff, "答复已发送给领衔人和附议人")


def rates(deputy: Page, url: str, result: str, comment: str = "") -> None:
    deputy.goto(url)
    form = action_form(deputy, "rate_reply")
    for question, answer in (("联系沟通", "满意"), ("办理态度", "满意"), ("办理结果", result)):
        form.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    form.get_by_label("意见", exact=True).fill(comment)
    form.get_by_role("button", name="提交评价").click()
    done(deputy, "您的评价已记录")


def staff_confirms_dissatisfaction(staff: Page) -> None:
    staff.goto("/office/supervision/")
    entry = staff.locator("#unsatisfied li", has_text=TITLE)
    expect(entry).to_contain_text("王建国")
    entry.get_by_label("理由").fill("区间车尚未开通，请市交通委重新办理并明确开通时间。")
    entry.get_by_role("button", name="确认：重新办理").click()
    done(staff, "已启动重新办理")


# --- the journey -------------------------------------------------------------------------------------------


def test_deputy_unsatisfied_with_class_b_reply_gets_it_handled_again_and_closes_satisfied(
    transactional_db: None,
    npc_session: ProposalSession,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    handler_a: User,
    password: str,
    daphne_server: LiveServer,
    browser: Browser,
    tmp_path: Path,
) -> None:
    server = daphne_server
    wang = signed_in(browser, server, deputy.username, password, phone=True)
    zhang = signed_in(browser, server, cosigner.username, password, phone=True)
    office = signed_in(browser, server, staff.username, password, phone=False)
    lead = signed_in(browser, server, handler.username, password, phone=False)
    co = signed_in(browser, server, handler_a.username, password, phone=False)

    # Given a submitted proposal with a co-signer, registered and assigned to a lead and a co-handler
    url = deputy_writes_and_invites(wang)
    shoot(wang, tmp_path, "01-deputy-draft")
    cosigner_signs(zhang)
    deputy_submits(wang, url)
    staff_registers_and_assigns(office)
    shoot(office, tmp_path, "02-assignment-desk")

    # When the lead replies class B after a communication and the co-handler's opinion, and it is sent
    handler_accepts(lead)
    lead_records_communication(lead)
    handler_accepts(co)
    co_handler_gives_opinion(co)
    lead_replies(lead, url, "B类：正在解决或列入计划解决", "已将翠湖新村区间车列入明年线网优化计划，年内完成站点勘察。")
    shoot(lead, tmp_path, "03-lead-reply-submitted")
    co_handler_signs_off(co, url)
    staff_sends_reply(office)

    # And the deputy is not satisfied with the result, which the office confirms
    rates(zhang, url, "基本满意")
    rates(wang, url, "不满意", "区间车何时开通没有说明。")
    expect(wang.locator(".chips.meta")).to_contain_text("不满意评价审核中")
    staff_confirms_dissatisfaction(office)

    # Then the deputy's page shows re-handling with the new deadline of round 2
    wang.goto(url)
    expect(status_chip(wang)).to_have_text("重新办理")
    due = read_db(lambda: round_two_reply_due(url))
    expect(wang.locator("dl.facts dt:text-is('答复期限') + dd")).to_have_text(due.isoformat())
    expect(wang.locator("#assignments li", has_text="第 2 轮")).to_contain_text(f"答复期限 {due.isoformat()}")
    shoot(wang, tmp_path, "04-deputy-rehandling")

    # When the lead bureau replies again (class A), the office sends it and both deputies are satisfied
    handler_accepts(lead)
    lead_replies(lead, url, "A类：已解决或基本解决", "翠湖新村区间车已于本月开通，早晚高峰发车间隔缩短至八分钟。")
    staff_sends_reply(office)
    rates(zhang, url, "满意")
    rates(wang, url, "满意")

    # Then the proposal is closed (已办结), and the deputy sees it so on the phone
    expect(status_chip(wang)).to_have_text("已办结")
    expect(wang.locator("#feedback .rating[data-rating=unsatisfied]")).to_have_text("不满意")  # round 1
    expect(wang.locator("#feedback .rating[data-rating=satisfied]")).to_have_text("满意")  # round 2
    final = shoot(wang, tmp_path, "05-deputy-closed")
    width, height = png_size(final)
    assert width == 390
    assert height >= 844
    assert final.stat().st_size > 10_000  # a rendered page, not a blank one
