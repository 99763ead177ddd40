"""Statistics over a scope and over time, and their files: the known set of ``test_metrics`` (P1–P4 assigned,
P5 only registered) moved in time by hand, every expectation counted from its table.

=====  ======  =============  ======  =======  ================================  =================
 #     bureau  communicated   reply   on time  ratings of the result             submitted
=====  ======  =============  ======  =======  ================================  =================
 P1    B       yes            A       yes      满意                               2027-01-15
 P2    B       yes            B       no       基本满意                            2027-01-20
 P3    C       no             B       yes      满意, 不满意 (co-signer)             2027-03-10
 P4    C       no             (none)  -        -                                 2027-03-12
 P5    -       (registered, never assigned: counts nowhere)                      2027-03-12
=====  ======  =============  ======  =======  ================================  =================
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from openpyxl import load_workbook

from consult.models import Bureau, User
from consult.people.roles import Chamber
from proposals import metrics, metrics_export, services
from proposals.metrics import Figures, Scope
from proposals.models import Proposal, ProposalKind, ProposalSession
from tests.proposals.conftest import content
from tests.proposals.test_metrics import known_set  # noqa: F401  (the fixture)

TITLES = {"P1": "区间车", "P2": "公交站点", "P3": "停车场", "P4": "充电桩", "P5": "加装电梯"}
SUBMITTED = {"P1": (2027, 1, 15), "P2": (2027, 1, 20), "P3": (2027, 3, 10), "P4": (2027, 3, 12), "P5": (2027, 3, 12)}


def proposal(key: str) -> Proposal:
    return Proposal.objects.get(title__contains=TITLES[key])


@pytest.fixture
def dated(known_set: None) -> None:  # noqa: F811
    for key, (y, m, d) in SUBMITTED.items():
        moment = timezone.make_aware(datetime(y, m, d, 10))
        Proposal.objects.filter(pk=proposal(key).pk).update(submitted_at=moment)


def counts(f: Figures) -> tuple[int, ...]:
    return (f.assigned, f.replied, f.on_time, f.communicated, f.ratings, f.satisfied)


def rates(f: Figures) -> tuple[float | None, ...]:
    return (f.reply_rate, f.on_time_rate, f.communication_rate, f.satisfaction_rate)


def classes(a: int = 0, b: int = 0, c: int = 0, d: int = 0) -> dict[str, int]:
    return {"A": a, "B": b, "C": c, "D": d}


def test_a_date_range_of_three_months_shows_each_month_with_proposals(dated: None) -> None:
    report = metrics.report(Proposal.objects.all(), Scope(date_from=date(2027, 1, 1), date_to=date(2027, 3, 31)))

    assert report.trend_by == "month"
    assert [(p.name, p.start) for p in report.over_time] == [
        ("2027-01", date(2027, 1, 1)),
        ("2027-03", date(2027, 3, 1)),
    ]  # February had no proposal: no step
    january, march = (p.figures for p in report.over_time)
    # January: P1 and P2, both replied after talking, P2 late; rated 满意 and 基本满意
    assert counts(january) == (2, 2, 1, 2, 2, 2)
    assert rates(january) == (1.0, 0.5, 1.0, 1.0)
    assert january.classes == classes(a=1, b=1)
    # March: P3 replied on time without talking, P4 not yet; P3 rated 满意 and 不满意
    assert counts(march) == (2, 1, 1, 0, 2, 1)
    assert rates(march) == (0.5, 1.0, 0.0, 0.5)
    assert march.classes == classes(b=1)
    assert counts(report.overall) == (4, 3, 2, 2, 4, 3)


def test_a_range_from_march_counts_only_what_was_submitted_since(dated: None, bureau_c: Bureau) -> None:
    report = metrics.report(Proposal.objects.all(), Scope(date_from=date(2027, 3, 1)))

    assert counts(report.overall) == (2, 1, 1, 0, 2, 1)
    assert [row.bureau_id for row in report.per_bureau] == [bureau_c.pk]
    assert report.trend_by == "year"  # open-ended: by year
    assert [(p.name, counts(p.figures)) for p in report.over_time] == [("2027", (2, 1, 1, 0, 2, 1))]


def test_a_day_range_includes_both_days(dated: None) -> None:
    one_day = Scope(date_from=date(2027, 1, 15), date_to=date(2027, 1, 15))

    assert counts(metrics.overall(one_day.apply(Proposal.objects.all()))) == (1, 1, 1, 1, 1, 1)


def test_a_session_is_shown_beside_the_earlier_sessions_of_its_chamber(
    dated: None, npc_session: ProposalSession, cppcc_session: ProposalSession
) -> None:
    earlier = ProposalSession.objects.create(chamber=Chamber.NPC, year=2026, name="第二次会议", number_prefix="建")
    ProposalSession.objects.create(chamber=Chamber.NPC, year=2016, name="十年前", number_prefix="建")
    Proposal.objects.filter(pk=proposal("P1").pk).update(session=earlier)

    report = metrics.report(Proposal.objects.all(), Scope(session_id=npc_session.pk))

    # the session itself: P2, P3, P4
    assert counts(report.overall) == (3, 2, 1, 1, 3, 2)
    assert report.overall.classes == classes(b=2)
    assert report.trend_by == "session"
    assert [(p.name, counts(p.figures)) for p in report.over_time] == [
        ("2026", (1, 1, 1, 1, 1, 1)),
        ("2027", (3, 2, 1, 1, 3, 2)),
    ]
    assert counts(metrics.report(Proposal.objects.all(), Scope(year=2026)).overall) == (1, 1, 1, 1, 1, 1)
    assert metrics.report(Proposal.objects.all(), Scope(session_id=cppcc_session.pk)).over_time == []


def test_the_kind_narrows_the_figures(dated: None) -> None:
    assert counts(metrics.report(Proposal.objects.all(), Scope(kind=ProposalKind.PROPOSAL)).overall) == (0,) * 6
    assert counts(metrics.report(Proposal.objects.all(), Scope(kind=ProposalKind.SUGGESTION)).overall)[0] == 4


def test_statistics_open_on_the_newest_session_that_reached_bureaus(
    dated: None, npc_session: ProposalSession, deputy: User
) -> None:
    ProposalSession.objects.filter(pk=npc_session.pk).update(is_open=False)
    ProposalSession.objects.create(chamber=Chamber.NPC, year=2028, name="新一次会议", number_prefix="建", is_open=True)
    draft = services.create_draft(actor=deputy, content=content(title="关于明年的建议"))

    assert draft.session.year == 2028
    assert metrics.current_session_year() == 2027


def test_without_assigned_proposals_statistics_open_on_the_newest_session(npc_session: ProposalSession) -> None:
    assert metrics.current_session_year() == 2027


# --- files ------------------------------------------------------------------------------------------------


def expected_rows(report: metrics.Report) -> list[list[Any]]:
    """What each row must say, straight from the report: name, six counts, four rates, four classes."""

    def cells(f: Figures) -> list[Any]:
        return [*counts(f), *rates(f), *(f.classes[c] for c in "ABCD")]

    return [
        cells(report.overall),
        *(cells(b.figures) for b in report.per_bureau),
        *(cells(p.figures) for p in report.over_time),
    ]


def test_the_csv_and_the_excel_file_hold_the_report(dated: None, npc_session: ProposalSession) -> None:
    report = metrics.report(Proposal.objects.all(), Scope(session_id=npc_session.pk))

    with translation.override("en"):
        data, workbook = metrics_export.to_csv(report), metrics_export.to_xlsx(report)
    assert data.startswith("\ufeff".encode())
    header, *lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[-4:] == ["A", "B", "C", "D"]
    assert len(header) == 16
    assert [line[1] for line in lines] == ["All bureaus", "市交通委", "市发展改革委", "2027"]
    as_numbers = [
        [None if cell == "" else (float(cell) if "." in cell else int(cell)) for cell in line[2:]] for line in lines
    ]
    assert as_numbers == expected_rows(report)

    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [row[1] for row in table[1:]] == ["All bureaus", "市交通委", "市发展改革委", "2027"]
    assert [row[2:] for row in table[1:]] == expected_rows(report)
    assert sheet.cell(row=2, column=9).number_format == "0.0%"


# --- API --------------------------------------------------------------------------------------------------


@pytest.fixture
def office(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_the_api_gives_the_trend_of_a_date_range(dated: None, office: Client) -> None:
    body = office.get("/api/proposals/metrics/", {"date_from": "2027-01-01", "date_to": "2027-03-31"}).json()

    assert body["trend_by"] == "month"
    assert [(p["name"], p["start"], p["figures"]["assigned"]) for p in body["over_time"]] == [
        ("2027-01", "2027-01-01", 2),
        ("2027-03", "2027-03-01", 2),
    ]
    assert body["over_time"][1]["figures"]["satisfaction_rate"] == 0.5


def test_the_api_exports_what_it_shows(dated: None, office: Client, npc_session: ProposalSession) -> None:
    query: dict[str, str | int] = {"session": npc_session.pk}
    shown = office.get("/api/proposals/metrics/", query).json()

    response = office.get("/api/proposals/metrics/export/", {**query, "file": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert [int(x) for x in lines[0][2:8]] == [
        shown["overall"][k] for k in ("assigned", "replied", "on_time", "communicated", "ratings", "satisfied")
    ]
    assert [line[1] for line in lines[1:3]] == [b["bureau_name"] for b in shown["per_bureau"]]

    response = office.get("/api/proposals/metrics/export/", {**query, "file": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet.cell(row=2, column=9).value == shown["overall"]["reply_rate"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "2027-03-01", "date_to": "2027-01-01", "file": "csv"}, "date_to"),
        ({"date_from": "March", "file": "csv"}, "date_from"),
        ({"kind": "motion", "file": "csv"}, "kind"),
        ({"file": "pdf"}, "file"),
        ({}, "file"),
    ],
)
def test_bad_statistics_queries_are_400_naming_the_field(office: Client, query: dict[str, str], field: str) -> None:
    response = office.get("/api/proposals/metrics/export/", query)

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_only_the_office_exports_statistics(deputy: User, client: Client) -> None:
    assert client.get("/api/proposals/metrics/export/", {"file": "csv"}).status_code == 401
    client.force_login(deputy)
    assert client.get("/api/proposals/metrics/export/", {"file": "csv"}).status_code == 403
