"""English all the way (issue 15, point 12), in Chromium: each role switches to English with the footer's language
switch and walks its main pages; nothing the platform wrote is left in Chinese.

Deputy, expert, handler and staff of the demo city sign in (the pages open in Chinese), press "English" in the
footer and open their home, desk or workbench, a consultation room with its system lines (started, joined,
ended, the outcome), a proposal whose timeline holds a 催办, a communication, a reply and a rating, their
notifications, the statistics and search. On each page the visible text (and the title, placeholders and
labels read aloud) holds no CJK character outside what people wrote or entered as data: names, titles, bodies,
topics, messages, bureaus and departments, posts, the session's name and numbering, the calendar's holiday
names, each listed from the rows this test made. Whatever else is Chinese fails the test, with the page and the
text around it. The demo city's proposals (the timelines ``seed_demo`` writes) are walked the same way.
Screenshots of every page are kept (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from chat import services as chat
from chat.models import Message, MessageKind
from consult.demo.city import DEMO_PASSWORD, seed_people
from consult.desk import services as desk
from consult.desk.models import ConsultationPeriod, ExpertPresence, PresenceStatus
from consult.models import Bureau, Consultation, Department, DeputyProfile, User
from consult.people.models import ExpertProfile, HandlerProfile
from consult.people.roles import Chamber
from proposals import services
from proposals.demo import seed_proposals
from proposals.models import (
    Assignment,
    CalendarDay,
    CoHandlerOpinion,
    Communication,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalEvent,
    ProposalSession,
    Reply,
)
from proposals.workdays import seed_calendar
from tests.conftest import LiveServer
from tests.e2e.conftest import open_context, save_screenshot
from tests.e2e.test_login import sign_in
from tests.proposals.conftest import lead_of

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TITLE = "关于优化东湖区早晚高峰公交线路的建议"
BODY = "东湖区翠湖新村入住居民增多，早晚高峰公交满载率超过百分之一百二十。建议增开区间车并优化站点。"
TOPIC = "课后服务收费标准"
URGE_NOTE = "请抓紧办理，按期答复代表"
SEARCHES = ["公交", "收费"]  # what the deputy and the staff member type into search
# CJK ideographs and the CJK and full-width punctuation ("，", "（", "：") that English text never needs.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# A run of Chinese left after the data is taken out may still be data cut short (a title truncated with "…", a
# search excerpt): allowed when it is at least this long and found in the data.
SHORTEST_EXCERPT = 4
# The language switch names each language in itself, as every multilingual site does.
LANGUAGE_NAMES = ["简体中文"]

# What the page shows: its visible text, its title, the words of placeholders and accessible labels, the texts its
# scripts show later (data-* attributes) and the JSON they draw from (chart labels, the thread's lines).
VISIBLE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title], [data-label]")) {
    if (!el.getClientRects().length) continue;
    for (const name of ["placeholder", "aria-label", "title", "data-label"]) {
      const value = el.getAttribute(name);
      if (value) parts.push(value);
    }
  }
  // the texts the page's scripts show later (data-sending, data-reconnecting, ...), shown or not yet
  for (const el of document.querySelectorAll("*")) {
    for (const attribute of el.attributes) {
      if (attribute.name.startsWith("data-") && attribute.value) parts.push(attribute.value);
    }
  }
  // the data the page's scripts draw from (the charts' labels, the thread's first lines)
  for (const el of document.querySelectorAll('script[type="application/json"]')) {
    parts.push(JSON.stringify(JSON.parse(el.textContent)));
  }
  return parts.join("\\n");
}"""


@dataclass(frozen=True)
class World:
    proposal: int
    consultation: int
    bureau: str  # the code of the bureau consulted (its page)
    data: list[str]  # what people wrote or entered, longest first


def _data() -> list[str]:
    """Every text of the demo city that people wrote or an administrator entered (never the platform's)."""
    found: set[str] = set(LANGUAGE_NAMES)
    sources = [
        (User.objects.all(), ["full_name"]),
        (Bureau.objects.all(), ["name", "full_name", "service_hours"]),
        (Department.objects.all(), ["name"]),
        (ExpertProfile.objects.all(), ["title"]),
        (HandlerProfile.objects.all(), ["title"]),
        (DeputyProfile.objects.all(), ["delegation", "sector", "term", "occupation"]),
        (ProposalSession.objects.all(), ["name"]),
        (Proposal.objects.all(), ["title", "body"]),
        (Reply.objects.all(), ["body", "public_body", "contact_person", "review_note"]),
        (Communication.objects.all(), ["summary"]),
        (Feedback.objects.all(), ["comment"]),
        (Consultation.objects.all(), ["topic", "outcome_note", "rating_comment"]),
        (ConsultationPeriod.objects.all(), ["name"]),
        (Message.objects.filter(kind=MessageKind.TEXT), ["body"]),
        (CalendarDay.objects.all(), ["name", "note"]),
    ]
    for rows, fields in sources:
        for values in rows.values_list(*fields):
            found.update(value for value in values if value and CJK.search(value))
    found.update(SEARCHES)
    found.add(URGE_NOTE)  # what the office wrote with its 催办 (a parameter of the timeline's entry)
    for lists in [
        Bureau.objects.values_list("topics", flat=True),
        ExpertProfile.objects.values_list("expertise", flat=True),
    ]:
        found.update(str(item) for items in lists for item in items if CJK.search(str(item)))
    # a proposal's number carries the session's prefix: 2027-建-0001
    found.update(f"-{prefix}-" for prefix in ProposalSession.objects.values_list("number_prefix", flat=True))
    return sorted(found, key=len, reverse=True)


@pytest.fixture
def world(transactional_db: None) -> World:
    """The demo city's people and calendar; the demo deputy's proposal walked to a rated reply through 市交通委
    (the demo handler's bureau), with a 催办 and a communication on its timeline; the deputy's consultation with
    市教委 taken by the demo expert, two messages, ended with an outcome and rated. Committed before Chromium."""
    seed_people()
    seed_calendar()
    session = ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )
    deputy, expert = User.objects.get(username="deputy"), User.objects.get(username="expert")
    handler, staff = User.objects.get(username="handler"), User.objects.get(username="staff")
    transport, education = Bureau.objects.get(name="市交通委"), Bureau.objects.get(name="市教委")

    proposal = services.create_draft(
        actor=deputy, content=services.DraftContent(title=TITLE, body=BODY, category="交通")
    )
    services.submit(actor=deputy, proposal_id=proposal.pk)
    services.register(actor=staff, proposal_id=proposal.pk)
    services.assign(actor=staff, proposal_id=proposal.pk, lead=transport.pk)
    lead = lead_of(proposal)
    services.urge(actor=staff, proposal_id=proposal.pk, assignment_id=lead.pk, note=URGE_NOTE)
    services.accept_assignment(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.record_communication(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        channel="meeting",
        occurred_on=timezone.localdate() - timedelta(days=1),
        summary="与代表座谈，介绍线路调整方案。",
    )
    reply = services.draft_reply(
        actor=handler,
        proposal_id=proposal.pk,
        assignment_id=lead.pk,
        outcome_class="A",
        body="区间车已列入计划，站点优化正在论证。",
        contact_person="刘芳",
        contact_phone="13800138001",
    )
    services.submit_reply(actor=handler, proposal_id=proposal.pk, assignment_id=lead.pk)
    services.review_reply(actor=staff, proposal_id=proposal.pk, reply_id=reply.pk, approve=True)
    services.rate_reply(
        actor=deputy,
        proposal_id=proposal.pk,
        reply_id=reply.pk,
        contact="satisfied",
        attitude="satisfied",
        result="basically",
        comment="答复具体，希望尽快落实。",
    )

    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )
    consultation = desk.start_consultation(actor=deputy, bureau_id=education.pk, topic=TOPIC)
    desk.route_bureau(bureau_id=education.pk)
    chat.post_message(actor=deputy, consultation_id=consultation.pk, client_id="q1", body="课后服务怎么收费？")
    chat.post_message(
        actor=expert, consultation_id=consultation.pk, client_id="a1", body="按学期收取，每学期不超过六百元。"
    )
    desk.end_consultation(actor=expert, consultation_id=consultation.pk)
    desk.record_outcome(actor=expert, consultation_id=consultation.pk, outcome="answered", note="已当场说明。")
    desk.rate_consultation(actor=deputy, consultation_id=consultation.pk, rating=5, comment="解答很专业，谢谢！")
    ExpertPresence.objects.filter(expert=expert.expert_profile).update(status=PresenceStatus.OFFLINE, connections=0)
    assert session.pk
    return World(proposal=proposal.pk, consultation=consultation.pk, bureau=education.code, data=_data())


def pages_of(role: str, world: World) -> list[str]:
    room, proposal = f"/desk/consultations/{world.consultation}/", f"/proposals/{world.proposal}/"
    return {
        "deputy": [
            "/",
            "/desk/",
            room,
            "/proposals/mine/",
            "/proposals/new/",
            proposal,
            "/notifications/",
            "/bureaus/",
            f"/bureaus/{world.bureau}/",
            "/profile/",
        ],
        "expert": ["/", "/desk/workbench/", room, "/notifications/", "/bureaus/", f"/search/messages/?q={SEARCHES[1]}"],
        "handler": ["/", "/handling/", proposal, "/notifications/", "/notifications/preferences/", "/profile/"],
        "staff": [
            "/",
            "/office/registration/",
            "/office/assignment/",
            "/office/supervision/",
            proposal,
            "/office/statistics/",
            "/desk/statistics/",
            "/notifications/",
            f"/search/?q={SEARCHES[0]}",
        ],
    }[role]


def chinese_left(text: str, data: list[str]) -> list[str]:
    """The runs of Chinese in ``text`` that are not data, each with the text around it."""
    for item in data:
        text = text.replace(item, " ")
    blob = "\n".join(data)
    left: dict[str, str] = {}
    for run in CJK.finditer(text):
        if len(run.group()) >= SHORTEST_EXCERPT and run.group() in blob:
            continue
        left.setdefault(run.group(), text[max(0, run.start() - 25) : run.end() + 25].replace("\n", " | "))
    return [f"{run} «{around}»" for run, around in left.items()]


def english(browser: Browser, server: LiveServer, username: str) -> Page:
    """Signed in (the pages open in Chinese), then "English" pressed in the footer."""
    page = open_context(browser, server, **DESKTOP).new_page()
    sign_in(page, username, DEMO_PASSWORD)
    page.wait_for_url(f"{server.url}/")
    page.locator("form.lang-switch button[value='en']").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    return page


def slug(path: str) -> str:
    return path.split("?")[0].strip("/").replace("/", "-") or "home"


def test_each_role_reads_every_main_page_in_english(world: World, daphne_server: LiveServer, browser: Browser) -> None:
    found: dict[str, list[str]] = {}
    for role in ("deputy", "expert", "handler", "staff"):
        page = english(browser, daphne_server, role)
        for path in pages_of(role, world):
            response = page.goto(path)
            assert response is not None
            assert response.status == 200, f"{role} {path}: {response.status}"
            page.wait_for_load_state("load")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            left = chinese_left(page.evaluate(VISIBLE_TEXT), world.data)
            if left:
                found[f"{role} {path}"] = left
            save_screenshot(page, f"english-{role}-{slug(path)}")
        page.context.close()

    report = "\n".join(f"{where}: {line}" for where, lines in found.items() for line in lines)
    assert found == {}, report


def test_the_room_and_the_timeline_say_what_happened_in_english(
    world: World, daphne_server: LiveServer, browser: Browser
) -> None:
    # the deputy's room: the platform's lines in English, around what people wrote
    page = english(browser, daphne_server, "deputy")
    page.goto(f"/desk/consultations/{world.consultation}/")
    thread = page.locator("body")
    expect(thread).to_contain_text(TOPIC)
    expect(thread).to_contain_text("课后服务怎么收费？")
    expect(thread).to_contain_text("started a consultation")

    # the proposal's timeline: the 催办's note as written, the rating and the meeting in English
    page.goto(f"/proposals/{world.proposal}/")
    expect(page.locator("body")).to_contain_text("Transport")
    expect(page.locator("body")).to_contain_text("Meeting")
    expect(page.locator("body")).to_contain_text("Basically satisfied")
    save_screenshot(page, "english-deputy-proposal-timeline")
    page.context.close()


@dataclass(frozen=True)
class DemoCity:
    mine: list[int]  # the demo deputy's proposals with the longest timelines
    office: list[int]  # proposals whose timelines hold returns, extensions and re-handling (office and bureau only)
    data: list[str]


@pytest.fixture
def demo_proposals(transactional_db: None) -> DemoCity:
    """The demo city with its proposals, as ``seed_demo`` builds them (timelines written by the demo builder)."""
    seed_people()
    seed_calendar()
    seed_proposals(count=150)
    deputy = User.objects.get(username="deputy")
    longest = Proposal.objects.annotate(steps=Count("events")).order_by("-steps", "id")
    mine = list(longest.filter(proposer=deputy).values_list("id", flat=True)[:4])
    actions = ["return_assignment", "extension_approved", "start_rehandling", "send_follow_up_reply"]
    office = [
        ProposalEvent.objects.filter(action=action).order_by("id").values_list("proposal_id", flat=True).first()
        for action in actions
    ]
    # what the demo's people wrote into timelines (a close's or a decline's reason): stored without a code
    written = ProposalEvent.objects.filter(code="").exclude(reason="").values_list("reason", flat=True).distinct()
    data = {*_data(), *written}
    for rows, fields in [
        (ExtensionRequest.objects.all(), ["reason", "decision_note"]),
        (CoHandlerOpinion.objects.all(), ["body"]),
        (Assignment.objects.all(), ["return_reason"]),
        (Proposal.objects.all(), ["publication_refusal_reason"]),
    ]:
        for values in rows.values_list(*fields):
            data.update(value for value in values if value and CJK.search(value))
    return DemoCity(mine=mine, office=[p for p in office if p], data=sorted(data, key=len, reverse=True))


def test_the_demo_citys_timelines_read_in_english(
    demo_proposals: DemoCity, daphne_server: LiveServer, browser: Browser
) -> None:
    found: dict[str, list[str]] = {}
    walks = {
        "deputy": ["/proposals/mine/", *[f"/proposals/{pk}/" for pk in demo_proposals.mine]],
        "staff": [f"/proposals/{pk}/" for pk in demo_proposals.office],
    }
    assert len(walks["staff"]) >= 3
    for role, paths in walks.items():
        page = english(browser, daphne_server, role)
        for path in paths:
            response = page.goto(path)
            assert response is not None
            assert response.status == 200, f"{role} {path}: {response.status}"
            left = chinese_left(page.evaluate(VISIBLE_TEXT), demo_proposals.data)
            if left:
                found[f"{role} {path}"] = left
            save_screenshot(page, f"english-demo-{role}-{slug(path)}")
        page.context.close()

    report = "\n".join(f"{where}: {line}" for where, lines in found.items() for line in lines)
    assert found == {}, report
