"""Statistics with charts (issue 15 point 9), in Chromium on a 1280×800 desktop and a 390×844 phone.

The office opens 办理统计 on the current session (2027, where proposals reached bureaus, not the year just
opened), sees every chart drawn (canvas present and painted) with the numbers in tables, downloads the CSV
and the Excel file and finds in them the API's numbers; then the consultation day's figures: a chart per
bureau that follows the day when the page re-reads itself.

Data, put in place through the services before Chromium starts: in the 2027 session three 建议 of the demo
deputy; two reach 市交通委 and are answered (class A after a phone call, rated 满意; class B, rated 基本满意),
one reaches 市教委 and waits. An empty 2028 session is open for submissions. A consultation waits for 市教委.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from consult.demo.city import DEMO_PASSWORD, seed_people
from consult.desk import services as desk
from consult.models import Bureau, User
from consult.people.roles import Chamber
from proposals.models import ProposalSession
from proposals.workdays import seed_calendar
from tests.conftest import LiveServer
from tests.e2e.conftest import PHONE, open_context, save_screenshot
from tests.e2e.test_login import sign_in
from tests.proposals.test_metrics import Cycle, rate

pytestmark = pytest.mark.e2e

SIZES: dict[str, dict[str, Any]] = {"desktop": {"viewport": {"width": 1280, "height": 800}}, "phone": PHONE}
COUNTS = ("assigned", "replied", "on_time", "communicated", "ratings", "satisfied")
RATES = ("reply_rate", "on_time_rate", "communication_rate", "satisfaction_rate")

# How many pixels of a canvas are painted (alpha > 0): a drawn chart has thousands, a blank canvas none.
PAINTED = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


@pytest.fixture
def office_world(transactional_db: None) -> None:
    seed_people()
    seed_calendar()
    ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )
    deputy, staff, handler = (User.objects.get(username=name) for name in ("deputy", "staff", "handler"))
    transport, education = Bureau.objects.get(name="市交通委"), Bureau.objects.get(name="市教委")
    cycle = Cycle(staff)
    first = cycle.assign(deputy, transport, title="关于增开东湖区区间车的建议")
    second = cycle.assign(deputy, transport, title="关于优化翠湖新村公交站点的建议")
    cycle.assign(deputy, education, title="关于东湖区中小学课后服务的建议")
    rate(deputy, cycle.reply(first, handler, "A", talk=True), "satisfied")
    rate(deputy, cycle.reply(second, handler, "B"), "basically")
    ProposalSession.objects.filter(year=2027).update(is_open=False)
    ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2028, name="海滨市第十六届人民代表大会第四次会议", number_prefix="建", is_open=True
    )
    desk.start_consultation(actor=deputy, bureau_id=education.pk, topic="课后服务的收费标准")


def staff_page(browser: Browser, server: LiveServer, size: str, tmp_path: Path) -> Page:
    page = open_context(browser, server, accept_downloads=True, **SIZES[size]).new_page()
    sign_in(page, "staff", DEMO_PASSWORD)
    page.wait_for_url(f"{server.url}/")
    return page


def download(page: Page, which: str) -> bytes:
    with page.expect_download() as info:
        page.locator(f"a[data-export='{which}']").click()
    path = info.value.path()
    assert path is not None
    return Path(path).read_bytes()


def numbers(cells: list[Any]) -> list[Any]:
    """A CSV row's figures as numbers (rates as fractions, empty as None), as the xlsx holds them."""
    return [None if c in ("", None) else (float(c) if "." in str(c) else int(c)) for c in cells]


def expected(figures: dict[str, Any]) -> list[Any]:
    return [*(figures[k] for k in COUNTS), *(figures[k] for k in RATES), *(figures["classes"][c] for c in "ABCD")]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_office_statistics_draw_charts_show_tables_and_export_the_api_numbers(
    office_world: None, daphne_server: LiveServer, browser: Browser, size: str, tmp_path: Path
) -> None:
    page = staff_page(browser, daphne_server, size, tmp_path)

    # the office opens the statistics: the current session, not the year just opened
    page.goto("/office/statistics/")
    expect(page.locator("h1")).to_have_text("2027 年办理统计")
    expect(page.locator("#id_year")).to_have_value("2027")
    expect(page.locator("[data-stat='reply_rate']")).to_have_text("66.7%")

    # every chart is drawn, labelled, and has its numbers in a table
    for chart in ("chart-bureau-rates", "chart-bureau-classes", "chart-trend-rates", "chart-trend-classes"):
        canvas = page.locator(f"#{chart}")
        expect(canvas).to_have_attribute("data-drawn", "true")
        assert canvas.evaluate(PAINTED) > 1000, chart
        assert canvas.get_attribute("aria-label")
        assert canvas.get_attribute("role") == "img"
        table = page.locator(f"#{canvas.get_attribute('aria-describedby')}")
        expect(table).to_be_visible()
    bureau_rows = page.locator("#bureau-figures tbody tr")
    expect(bureau_rows).to_have_count(2)
    expect(bureau_rows.filter(has_text="市交通委").locator("td").nth(2)).to_have_text("100.0%")
    expect(page.locator("#period-figures tbody tr th")).to_have_text(["2027"])
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    save_screenshot(page, f"statistics-{size}")

    # the downloads hold the API's numbers
    api = page.request.get("/api/proposals/metrics/?year=2027").json()
    shown = [api["overall"], *(b["figures"] for b in api["per_bureau"]), *(p["figures"] for p in api["over_time"])]
    names = ["全部委办局", *(b["bureau_name"] for b in api["per_bureau"]), *(p["name"] for p in api["over_time"])]

    header, *rows = list(csv.reader(io.StringIO(download(page, "csv").decode("utf-8-sig"))))
    assert header[:3] == ["类别", "单位或时段", "已交办"]
    assert [row[1] for row in rows] == names
    assert [numbers(row[2:]) for row in rows] == [expected(f) for f in shown]

    sheet = load_workbook(io.BytesIO(download(page, "xlsx"))).worksheets[0]
    table_rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [row[1] for row in table_rows] == names
    assert [numbers(row[2:]) for row in table_rows] == [expected(f) for f in shown]
    page.context.close()


def in_thread(work: Callable[[], object]) -> None:
    """ORM work while Chromium runs: Playwright's loop makes Django refuse it on this thread (e2e conftest)."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()  # the thread's own connection, or the test database cannot be dropped

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_consultation_day_chart_follows_the_queue(
    office_world: None, daphne_server: LiveServer, browser: Browser, size: str, tmp_path: Path
) -> None:
    page = staff_page(browser, daphne_server, size, tmp_path)
    page.goto("/desk/statistics/")

    canvas = page.locator("#chart-desk-day")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert canvas.evaluate(PAINTED) > 500
    waiting = page.locator("#desk-bureau-figures tr:has-text('市教委') [data-count='waiting']")
    expect(waiting).to_have_text("1")
    chart_waiting = "c => Chart.getChart(c).data.datasets[0].data"
    assert canvas.evaluate(chart_waiting) == [1]

    # a second deputy asks 市教委; the page re-reads itself (as on its timer or a live event) and redraws
    def ask() -> None:
        member = User.objects.get(username="member")
        desk.start_consultation(actor=member, bureau_id=Bureau.objects.get(name="市教委").pk, topic="校车线路")

    in_thread(ask)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(waiting).to_have_text("2")
    canvas = page.locator("#chart-desk-day")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert canvas.evaluate(chart_waiting) == [2]
    assert canvas.evaluate(PAINTED) > 500
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")
    save_screenshot(page, f"desk-statistics-{size}")
    page.context.close()
