"""Everyone can use it (issue 15, points 10 and 11): phones and the 长辈版 (large text), in Chromium.

Each role (deputy, expert, handler, staff) signs in on a 390×844 phone and on a 1280×800 desktop and walks its
main pages; on every page the smallest visible text is at least 12 px and, on the phone, nothing is wider than
the screen. Then a deputy turns on 长辈版 and walks again: body text at least 18 px, every button, field and
menu entry at least 44 px high. Tables read as labelled cards on the phone and as tables on the desktop; the
menu shows where it scrolls. Screenshots of every page at both sizes are kept (tests/e2e/conftest.py).

The demo city with some proposals and past consultations is committed before Chromium starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from chat.services import post_message
from consult.demo.city import DEMO_PASSWORD, seed_people
from consult.desk import services as desk
from consult.models import Bureau, ExpertPresence, PresenceStatus, User
from consult.people.roles import Chamber
from proposals import services
from proposals.models import ProposalSession
from proposals.workdays import seed_calendar
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context, save_screenshot
from tests.e2e.test_login import sign_in

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
PHONE_WIDTH = 390
SMALLEST_TEXT_PX = 12
LARGE_BODY_PX = 18
TOUCH_TARGET_PX = 44
CONTENT = services.DraftContent(
    title="关于优化东湖区早晚高峰公交线路的建议",
    body="东湖区翠湖新村入住居民增多，早晚高峰公交满载率超过百分之一百二十。建议增开区间车并优化站点。",
    category="交通",
)

# The main pages of each role (a proposal page is added for the deputy: one of their own, with replies).
ROLE_PAGES = {
    "deputy": ["/", "/desk/", "/proposals/mine/", "/proposals/new/", "/bureaus/", "/profile/", "/notifications/"],
    "expert": ["/", "/desk/workbench/", "/bureaus/", "/profile/"],
    "handler": ["/", "/handling/", "/profile/"],
    "staff": [
        "/",
        "/office/registration/",
        "/office/assignment/",
        "/office/supervision/",
        "/office/statistics/",
        "/desk/statistics/",
        "/search/?q=公交",
    ],
}

# Text sizes measured in the page: every visible text node (and the cards' labels drawn by ::before), the
# smallest with where it is, the size holding the most characters of running text ("body text": headings and
# secondary text, which is marked small or muted, left out), and the page's width.
MEASURE = """() => {
  const SECONDARY = ".small, small, .muted, .chip, .badge, .meta, time, .help, .facet, .count, .sender, h1, h2, h3";
  const sizes = new Map();
  let smallest = {px: 1e9, where: ""};
  const note = (px, chars, where) => {
    sizes.set(px, (sizes.get(px) || 0) + chars);
    if (px < smallest.px) smallest = {px, where};
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || parseFloat(style.opacity) === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;
    const where = `${el.tagName.toLowerCase()}.${el.className}: ${text.slice(0, 30)}`;
    note(parseFloat(style.fontSize), el.closest(SECONDARY) ? 0 : text.length, where);
  }
  for (const el of document.querySelectorAll("[data-label]")) {
    const before = getComputedStyle(el, "::before");
    if (before.content && before.content !== "none" && before.display !== "none" && el.getClientRects().length) {
      note(parseFloat(before.fontSize), el.dataset.label.length, `label ${el.dataset.label}`);
    }
  }
  let body = 0, bodyChars = 0;
  for (const [px, chars] of sizes) if (chars > bodyChars) { body = px; bodyChars = chars; }
  return {smallest, body, bodyPx: parseFloat(getComputedStyle(document.body).fontSize),
          scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth};
}"""

# Touch targets under 44 px high among the visible controls (checkboxes count by their label).
SMALL_TARGETS = """(limit) => {
  const found = [];
  const controls = document.querySelectorAll(
    'button, a.button, select, textarea, summary, .mainnav a, .tabs a, ' +
    'input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"])');
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    const name = (el.textContent || el.name || "").trim().slice(0, 20);
    if (box.height + 0.5 < limit) found.push(`${el.tagName.toLowerCase()} "${name}" ${box.height.toFixed(1)}px`);
  }
  return found;
}"""


@dataclass(frozen=True)
class World:
    deputy_proposal: int
    consultation: int


@pytest.fixture
def demo_world(transactional_db: None) -> World:
    """The demo city's people and calendar, and the demo deputy's proposals at each desk, committed.

    One draft, one waiting for registration, one for assignment and one assigned to 市交通委 (the demo
    handler's bureau, lead) with 市教委 (co-handler): every office table and the handler's queue have rows.
    """
    seed_people()
    seed_calendar()
    ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )
    deputy, staff = User.objects.get(username="deputy"), User.objects.get(username="staff")
    transport, education = Bureau.objects.get(name="市交通委"), Bureau.objects.get(name="市教委")
    drafts = [services.create_draft(actor=deputy, content=CONTENT) for _ in range(4)]
    for proposal in drafts[1:]:
        services.submit(actor=deputy, proposal_id=proposal.pk)
    for proposal in drafts[2:]:
        services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=drafts[3].pk, lead=transport.pk, co=[education.pk])
    return World(deputy_proposal=drafts[3].pk, consultation=_a_live_consultation(deputy, education))


def _a_live_consultation(deputy: User, bureau: Bureau) -> int:
    """The demo expert (市教委) online, answering the deputy's consultation, a question and an answer in it."""
    expert = User.objects.get(username="expert")
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau.pk, topic="课后服务收费标准")
    desk.route_bureau(bureau_id=bureau.pk)
    post_message(actor=deputy, consultation_id=consultation.pk, client_id="q1", body="课后服务每月收费多少？")
    post_message(actor=expert, consultation_id=consultation.pk, client_id="a1", body="按学期收取，每课时不超过四元。")
    return consultation.pk


def slug(path: str) -> str:
    return path.split("?")[0].strip("/").replace("/", "-") or "home"


def signed_in_page(browser: Browser, server: LiveServer, username: str, size: str) -> Page:
    page = open_context(browser, server, **SIZES[size]).new_page()
    sign_in(page, username, DEMO_PASSWORD)
    page.wait_for_url(f"{server.url}/")
    return page


def walk(page: Page, paths: list[str], name: str) -> list[dict[str, Any]]:
    """Open each page, measure it, keep a screenshot; the measures come back by page."""
    measures = []
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, f"{path}: {response.status}"
        page.wait_for_load_state("load")
        measure = page.evaluate(MEASURE)
        measure["path"] = path
        measures.append(measure)
        save_screenshot(page, f"{name}-{slug(path)}")
    return measures


def pages_of(role: str, world: World) -> list[str]:
    paths = list(ROLE_PAGES[role])
    if role == "deputy":
        paths.append(f"/proposals/{world.deputy_proposal}/")
    if role in ("deputy", "expert"):
        paths.append(f"/desk/consultations/{world.consultation}/")
    return paths


def test_every_main_page_of_each_role_keeps_text_readable_and_fits_a_phone(
    demo_world: World, daphne_server: LiveServer, browser: Browser
) -> None:
    for role in ROLE_PAGES:
        for size in SIZES:
            page = signed_in_page(browser, daphne_server, role, size)

            measures = walk(page, pages_of(role, demo_world), f"{role}-{size}")

            too_small = [(m["path"], m["smallest"]) for m in measures if m["smallest"]["px"] < SMALLEST_TEXT_PX]
            assert too_small == [], (role, size)
            if size == "phone":
                too_wide = [(m["path"], m["scrollWidth"]) for m in measures if m["scrollWidth"] > m["innerWidth"]]
                assert too_wide == [], role
                assert all(m["innerWidth"] == PHONE_WIDTH for m in measures)
            page.context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_large_text_makes_text_18px_and_targets_44px_on_every_page_and_is_remembered(
    demo_world: World, daphne_server: LiveServer, browser: Browser, size: str
) -> None:
    # given a deputy signed in, in standard text
    page = signed_in_page(browser, daphne_server, "deputy", size)
    expect(page.locator("html")).not_to_have_class("large-text")
    standard = page.evaluate(MEASURE)

    # when they press 长辈版 in the header
    page.locator(".topbar .text-size-switch button").click()

    # then the same page comes back in large text, and every main page keeps it
    expect(page.locator("html")).to_have_class("large-text")
    expect(page.locator(".topbar .text-size-switch button")).to_have_text("标准版")
    assert page.evaluate(MEASURE)["bodyPx"] > standard["bodyPx"]
    measures = walk(page, pages_of("deputy", demo_world), f"deputy-{size}-large")
    for m in measures:
        assert m["bodyPx"] >= LARGE_BODY_PX, m["path"]
        assert m["body"] >= LARGE_BODY_PX, (m["path"], m["body"])
        assert m["smallest"]["px"] >= SMALLEST_TEXT_PX, (m["path"], m["smallest"])
        if size == "phone":
            assert m["scrollWidth"] <= m["innerWidth"], m["path"]
    for path in pages_of("deputy", demo_world):
        page.goto(path)
        assert page.evaluate(SMALL_TARGETS, TOUCH_TARGET_PX) == [], path

    # and it is remembered on the account: a new device signed in as the deputy opens in large text
    page.context.close()
    other = signed_in_page(browser, daphne_server, "deputy", size)
    expect(other.locator("html")).to_have_class("large-text")
    other.goto("/profile/")
    expect(other.locator("#text-size")).to_contain_text("当前为长辈版")
    # and the way back is one press
    other.locator(".topbar .text-size-switch button").click()
    expect(other.locator("html")).not_to_have_class("large-text")
    other.context.close()


def test_on_a_phone_the_office_tables_are_labelled_cards_and_the_menu_shows_it_scrolls(
    demo_world: World, daphne_server: LiveServer, browser: Browser
) -> None:
    page = signed_in_page(browser, daphne_server, "staff", "phone")

    # the menu is wider than the phone: a fade and an arrow say there is more to the right
    wrap = page.locator(".mainnav-wrap")
    expect(wrap).to_have_attribute("data-overflow", "end")
    # the fade comes in with a CSS transition: wait until it is fully there
    page.wait_for_function("getComputedStyle(document.querySelector('.mainnav-wrap'), '::after').opacity === '1'")
    assert page.evaluate("getComputedStyle(document.querySelector('.mainnav-wrap'), '::after').content") == '"›"'
    page.locator(".mainnav").evaluate("nav => nav.scrollTo({left: nav.scrollWidth})")
    expect(wrap).to_have_attribute("data-overflow", "start")

    # the registration desk's table: each row a card, each cell with its column's name above the value
    page.goto("/office/registration/")
    row = page.locator("table.grid tbody tr:has(td[data-label]:not([data-label='']))").first
    expect(row).to_be_visible()
    assert row.evaluate("tr => getComputedStyle(tr).display") == "block"
    assert (
        page.locator("table.grid thead th:not(:has(input))").first.evaluate("th => getComputedStyle(th).display")
        == "none"
    )
    cell = row.locator("td[data-label]:not([data-label=''])").first
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == f'"{cell.get_attribute("data-label")}"'
    assert label != '""'
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH

    # a statistics table whose figure cells the template leaves bare is labelled from its header (layout.js)
    page.goto("/office/statistics/")
    table = page.locator("table.grid").first
    expect(table).to_be_visible()
    unlabelled = table.evaluate(
        "t => [...t.tBodies[0].rows].flatMap(r => [...r.cells]).filter(c => c.tagName === 'TD' && c.colSpan === 1"
        " && !c.dataset.label).length"
    )
    assert unlabelled == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    save_screenshot(page, "staff-phone-statistics-cards")
    page.context.close()


def test_on_a_desktop_tables_stay_tables_and_the_menu_has_no_arrow(
    demo_world: World, daphne_server: LiveServer, browser: Browser
) -> None:
    page = signed_in_page(browser, daphne_server, "staff", "desktop")

    expect(page.locator(".mainnav-wrap")).to_have_attribute("data-overflow", "none")
    page.goto("/office/registration/")
    row = page.locator("table.grid tbody tr:has(td[data-label]:not([data-label='']))").first
    expect(row).to_be_visible()
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert (
        row.locator("td[data-label]:not([data-label=''])").first.evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        == "none"
    )
    page.context.close()
