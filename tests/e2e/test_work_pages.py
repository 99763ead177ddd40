"""Daily work in Chromium, on a 390×844 phone and a desktop (issue 15, points 3, 5 and 7): the home pages are to-do
lists that lead to the work, and the supervision desk pages through every overdue assignment, filters them and
sends a 催办 whose refusal stays on the desk (a reload posts nothing).

The data is made through the services and committed before Chromium starts (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from consult.desk import services as desk
from consult.models import Bureau, User
from proposals import services
from proposals.models import Assignment, ProposalSession
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context, save_screenshot
from tests.e2e.test_login import sign_in
from tests.proposals import conftest as proposal_fixtures
from tests.proposals.conftest import content

pytestmark = pytest.mark.e2e

npc_session = proposal_fixtures.npc_session
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
OVERDUE_PROPOSALS = 26  # two assignments each: 52 overdue rows, more than one page of 50


def signed_in(browser: Browser, server: LiveServer, username: str, password: str, *, phone: bool) -> Page:
    page = open_context(browser, server, **(PHONE if phone else DESKTOP)).new_page()
    sign_in(page, username, password)
    page.wait_for_url(f"{server.url}/")
    return page


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def work(
    transactional_db: None,
    npc_session: ProposalSession,
    deputy: User,
    cosigner: User,
    staff: User,
    handler: User,
    bureau_a: Bureau,
    bureau_b: Bureau,
) -> dict[str, int]:
    """A draft of 王建国 that 张丽 is invited to co-sign, her consultation waiting, and 26 proposals whose bureaus
    are late: 市交通委 (lead) by 3 days, 市教委 (co-handler) by 10."""
    draft = services.create_draft(actor=deputy, content=content(title="关于增设社区食堂的建议"))
    services.invite_cosigner(actor=deputy, proposal_id=draft.pk, deputy_id=cosigner.pk)
    desk.start_consultation(actor=cosigner, bureau_id=bureau_a.pk, topic="老旧小区加装电梯的补贴")
    for n in range(OVERDUE_PROPOSALS):
        proposal = services.create_draft(actor=deputy, content=content(title=f"关于第{n:02d}号路口改造的建议"))
        services.submit(actor=deputy, proposal_id=proposal.pk)
        services.register(actor=staff, proposal_id=proposal.pk)
        services.assign(actor=staff, proposal_id=proposal.pk, lead=bureau_b.pk, co=[bureau_a.pk])
    today = timezone.localdate()
    Assignment.objects.filter(bureau=bureau_b).update(reply_due=today - timedelta(days=3))  # time has passed
    Assignment.objects.filter(bureau=bureau_a).update(opinion_due=today - timedelta(days=10))
    return {"draft": draft.pk, "bureau_a": bureau_a.pk}


def test_home_pages_are_to_do_lists_on_a_phone_and_a_desktop(
    work: dict[str, int],
    deputy: User,
    cosigner: User,
    staff: User,
    password: str,
    daphne_server: LiveServer,
    browser: Browser,
) -> None:
    zhang = signed_in(browser, daphne_server, cosigner.username, password, phone=True)
    office = signed_in(browser, daphne_server, staff.username, password, phone=False)

    # 张丽 on her phone: one invitation, one consultation, each a tap away from where it is answered
    expect(zhang.locator("[data-todo-count=cosign]")).to_have_text("1")
    expect(zhang.locator("[data-todo-count=consultations]")).to_have_text("1")
    expect(zhang.locator("#todo-consultations")).to_contain_text("老旧小区加装电梯的补贴")
    no_sideways_scroll(zhang)
    save_screenshot(zhang, "home-todo-deputy-phone")
    zhang.locator("#todo-cosign a", has_text="关于增设社区食堂的建议").click()
    zhang.wait_for_url(re.compile(rf"/proposals/{work['draft']}/#cosign$"))
    expect(zhang.locator("form[data-form=cosign]")).to_be_visible()

    # the office on a desktop: the desks' counts, the overdue list leads to the supervision desk
    expect(office.locator("[data-todo-count=overdue]")).to_have_text(str(2 * OVERDUE_PROPOSALS))
    expect(office.locator("[data-todo-count=register]")).to_have_text("0")
    save_screenshot(office, "home-todo-office-desktop")
    office.locator("#todo-overdue h3 a").click()
    office.wait_for_url(re.compile(r"/office/supervision/#overdue$"))
    expect(office.locator("[data-count=overdue]")).to_have_text(str(2 * OVERDUE_PROPOSALS))


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_the_supervision_desk_pages_filters_and_urges(
    work: dict[str, int],
    staff: User,
    password: str,
    daphne_server: LiveServer,
    browser: Browser,
    phone: bool,
) -> None:
    office = signed_in(browser, daphne_server, staff.username, password, phone=phone)
    office.goto("/office/supervision/")
    rows = office.locator("#overdue tr[data-assignment]")

    # every overdue assignment, 50 to a page
    expect(rows).to_have_count(50)
    office.locator("#overdue a[rel=next]").click()
    expect(rows).to_have_count(2 * OVERDUE_PROPOSALS - 50)
    expect(office.locator("#overdue [data-page]")).to_have_text(re.compile("2"))
    if phone:
        no_sideways_scroll(office)

    # filtered: a week or more late leaves 市教委's opinions only
    office.goto("/office/supervision/")
    office.get_by_label("逾期天数不少于").fill("7")
    office.locator("form[data-form=overdue_filters] button[type=submit]").click()
    expect(rows).to_have_count(OVERDUE_PROPOSALS)
    expect(office.locator("#overdue tbody")).not_to_contain_text("市交通委")
    save_screenshot(office, f"supervision-filtered-{'phone' if phone else 'desktop'}")

    # 催办 from the filtered list: done, and the list keeps its filter
    first = rows.first
    first.locator("summary", has_text="催办").click()
    first.get_by_label("给承办单位的附言（选填）").fill("请本周内报送会办意见")
    first.get_by_role("button", name="发送催办").click()
    expect(office.locator("p.flash")).to_contain_text("已向承办单位发出催办")
    assert "min_days=7" in office.url
    expect(rows.first.locator("[data-urged]")).to_be_visible()

    # again the same day: refused on the desk itself, and a reload posts nothing
    rows.first.locator("summary", has_text="催办").click()
    rows.first.get_by_role("button", name="发送催办").click()
    expect(office.locator("#overdue")).to_contain_text("下次催办须在")
    assert "/office/supervision/" in office.url
    assert "/act/" not in office.url
    office.reload()
    expect(office.locator("#overdue")).not_to_contain_text("下次催办须在")
