"""The office's statistics page (办理统计): the four rates and A–D per bureau and over time, as charts with
the numbers in tables, for a session year or a range of dates; links to the same figures as CSV and Excel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from frontend.forms import StatisticsForm
from frontend.views_proposals.common import current_user, require_office
from proposals import metrics
from proposals.models import Proposal, ProposalSession, Status

CLASSES = ("A", "B", "C", "D")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class FigureRow:
    name: str
    figures: metrics.Figures

    @property
    def rate_values(self) -> list[float | None]:
        f = self.figures
        return [f.reply_rate, f.on_time_rate, f.communication_rate, f.satisfaction_rate]

    @property
    def rates(self) -> list[str]:
        return [percent(r) for r in self.rate_values]

    @property
    def classes(self) -> list[int]:
        return [self.figures.classes.get(c, 0) for c in CLASSES]

    @property
    def cells(self) -> list[tuple[str, object]]:
        """Each number with its column's name (phones show a row as a card of labelled cells)."""
        counts = [(_("Assigned"), self.figures.assigned), (_("Replied"), self.figures.replied)]
        return [*counts, *zip(rate_names(), self.rates, strict=True), *zip(CLASSES, self.classes, strict=True)]


def rate_names() -> list[str]:
    return [_("Reply rate"), _("On-time reply rate"), _("Communication rate"), _("Satisfaction rate")]


def chart_data(rows: list[FigureRow]) -> dict[str, Any]:
    """What statistics.js draws: the rates in percent (null: no denominator) and the class counts per row."""
    labels = [row.name for row in rows]
    rates = [
        {
            "label": name,
            "data": [None if r is None else round(r * 100, 1) for r in (row.rate_values[i] for row in rows)],
        }
        for i, name in enumerate(rate_names())
    ]
    classes = [{"label": c, "data": [row.classes[i] for row in rows]} for i, c in enumerate(CLASSES)]
    return {"labels": labels, "rates": rates, "classes": classes}


def sessions_of(year: int | None) -> list[str]:
    if year is None:
        return []
    return list(ProposalSession.objects.filter(year=year).order_by("chamber").values_list("name", flat=True))


def export_query(data: dict[str, Any], file: str) -> str:
    query = QueryDict(mutable=True)
    for name in ("year", "kind", "date_from", "date_to"):
        value = data.get(name)
        if value not in (None, ""):
            query[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    query["file"] = file
    return f"{reverse('api-proposal-metrics-export')}?{query.urlencode()}"


@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    years = sorted(set(ProposalSession.objects.values_list("year", flat=True)), reverse=True)
    current = metrics.current_session_year() or timezone.localdate().year
    years = years or [current]
    form = StatisticsForm(request.GET or {"year": current}, years=years)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {"year": current}
    scope = metrics.Scope(
        year=data.get("year"), kind=data.get("kind") or "", date_from=data.get("date_from"), date_to=data.get("date_to")
    )
    visible = Proposal.objects.visible_to(user)
    report = metrics.report(visible, scope)
    bureaus = [FigureRow(row.bureau_name, row.figures) for row in report.per_bureau]
    periods = [FigureRow(period.name, period.figures) for period in report.over_time]
    context = {
        "form": form,
        "scope": scope,
        "sessions": sessions_of(scope.year),
        "overall": FigureRow("", report.overall),
        "bureaus": bureaus,
        "periods": periods,
        "trend_by": report.trend_by,
        "charts": {"bureaus": chart_data(bureaus), "periods": chart_data(periods)},
        "total": scope.apply(visible).exclude(status=Status.DRAFT).count(),
        "csv_url": export_query(data, "csv"),
        "xlsx_url": export_query(data, "xlsx"),
    }
    return render(request, "frontend/proposals/statistics.html", context, status=200 if form.is_valid() else 400)
