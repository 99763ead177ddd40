"""Statistics for the office (办理统计): 办复率, 按时办复率, 沟通率, 满意率 and the A/B/C/D distribution,
overall, per bureau and over time. Reads only; the caller passes the proposals it may see and a ``Scope``
(a session, a year, or a range of submission dates) narrows them (docs/domain.md, "Statistics").

- 办复率   replied / assigned                 (proposals that reached a bureau)
- 按时办复率 replied by the deadline / replied (first replies)
- 沟通率   replied with at least one communication record / replied
- 满意率   ratings of the result 满意 or 基本满意 / all ratings
- classes  the outcome class of replied proposals
Per bureau, a proposal counts for each bureau that had to reply to it (lead or separate) in the
first round and did not return it, judged by that bureau's own reply (its date against its own
deadline, its class).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth, TruncYear
from django.utils import timezone

from proposals.models import (
    Assignment,
    AssignmentStatus,
    Communication,
    Feedback,
    OutcomeClass,
    Proposal,
    ProposalSession,
    Rating,
    Reply,
    ReplyKind,
    ReplyStatus,
)
from proposals.models.choices import REPLYING_ROLES

GOOD = [Rating.SATISFIED, Rating.BASICALLY]
TREND_YEARS = 10  # sessions shown in the trend of a session or year
MONTHLY_UP_TO = 24  # a date range of up to this many months is shown by month, a longer one by year
Bucket = Literal["session", "year", "month"]  # session year, year or month of submission


@dataclass(frozen=True)
class Figures:
    assigned: int = 0
    replied: int = 0
    on_time: int = 0
    communicated: int = 0
    ratings: int = 0
    satisfied: int = 0
    classes: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def reply_rate(self) -> float | None:  # 办复率
        return self._rate(self.replied, self.assigned)

    @property
    def on_time_rate(self) -> float | None:  # 按时办复率
        return self._rate(self.on_time, self.replied)

    @property
    def communication_rate(self) -> float | None:  # 沟通率
        return self._rate(self.communicated, self.replied)

    @property
    def satisfaction_rate(self) -> float | None:  # 满意率
        return self._rate(self.satisfied, self.ratings)


@dataclass(frozen=True)
class BureauFigures:
    bureau_id: int
    bureau_name: str
    figures: Figures


def _class_counts(prefix: str = "") -> dict[str, Count]:
    return {
        f"class_{c}": Count(f"{prefix}pk", filter=Q(**{f"{prefix}outcome_class": c}), distinct=True)
        for c in OutcomeClass.values
    }


def overall(proposals: QuerySet[Proposal]) -> Figures:
    communicated = Exists(Communication.objects.filter(proposal=OuterRef("pk")))
    reached = proposals.filter(assigned_at__isnull=False)
    row = reached.annotate(talked=communicated).aggregate(
        assigned=Count("pk"),
        replied=Count("pk", filter=Q(first_replied_at__isnull=False)),
        on_time=Count("pk", filter=Q(replied_on_time=True)),
        communicated=Count("pk", filter=Q(first_replied_at__isnull=False, talked=True)),
        **_class_counts(),
    )
    ratings = Feedback.objects.filter(proposal__in=reached).aggregate(
        ratings=Count("pk"), satisfied=Count("pk", filter=Q(result__in=GOOD))
    )
    return _figures(row, ratings)


def per_bureau(proposals: QuerySet[Proposal]) -> list[BureauFigures]:
    """Each bureau by its own first-round reply: under 分办 every bureau is judged on what it sent."""
    answering = Assignment.objects.filter(proposal__in=proposals, round=1, role__in=REPLYING_ROLES).exclude(
        status__in=[AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN]
    )
    own_reply = Reply.objects.filter(assignment=OuterRef("pk"), kind=ReplyKind.ANSWER, status=ReplyStatus.SENT)
    talked = Exists(Communication.objects.filter(proposal=OuterRef("proposal"), assignment__bureau=OuterRef("bureau")))
    rows = (
        answering.annotate(
            talked=talked,
            has_reply=Exists(own_reply),
            in_time=Exists(own_reply.filter(sent_at__date__lte=OuterRef("reply_due"))),
            reply_class=Subquery(own_reply.values("outcome_class")[:1]),
        )
        .values("bureau_id", "bureau__name", "bureau__sort_order")
        .annotate(
            assigned=Count("pk"),
            replied=Count("pk", filter=Q(has_reply=True)),
            on_time=Count("pk", filter=Q(in_time=True)),
            communicated=Count("pk", filter=Q(has_reply=True, talked=True)),
            **{f"class_{c}": Count("pk", filter=Q(reply_class=c)) for c in OutcomeClass.values},
        )
        .order_by("bureau__sort_order", "bureau_id")
    )
    ratings = {
        r["reply__assignment__bureau_id"]: r
        for r in Feedback.objects.filter(proposal__in=proposals)
        .values("reply__assignment__bureau_id")
        .annotate(ratings=Count("pk"), satisfied=Count("pk", filter=Q(result__in=GOOD)))
    }
    return [
        BureauFigures(row["bureau_id"], row["bureau__name"], _figures(row, ratings.get(row["bureau_id"], {})))
        for row in rows
    ]


def _figures(row: Mapping[str, Any], ratings: Mapping[str, Any]) -> Figures:
    return Figures(
        assigned=row["assigned"],
        replied=row["replied"],
        on_time=row["on_time"],
        communicated=row["communicated"],
        ratings=ratings.get("ratings", 0),
        satisfied=ratings.get("satisfied", 0),
        classes={c: row[f"class_{c}"] for c in OutcomeClass.values},
    )


# --- scope and trend -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which proposals the figures are about: one session, the sessions of a year, or those submitted
    between two dates (both included, local time); optionally only 建议 or only 提案. Empty: all."""

    year: int | None = None
    session_id: int | None = None
    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_range(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def apply(self, proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
        if self.kind:
            proposals = proposals.filter(kind=self.kind)
        if self.session_id is not None:
            proposals = proposals.filter(session_id=self.session_id)
        if self.year is not None:
            proposals = proposals.filter(session__year=self.year)
        if self.date_from is not None:
            proposals = proposals.filter(submitted_at__date__gte=self.date_from)
        if self.date_to is not None:
            proposals = proposals.filter(submitted_at__date__lte=self.date_to)
        return proposals

    def trend(self, proposals: QuerySet[Proposal]) -> tuple[QuerySet[Proposal], Bucket]:
        """What the trend shows: a date range by month (or by year when long); a session or a year beside
        the sessions of the TREND_YEARS years up to it (same chamber, same kind); nothing: every session."""
        if self.is_range:
            return self.apply(proposals), self._range_bucket()
        if self.kind:
            proposals = proposals.filter(kind=self.kind)
        last = self.year
        if self.session_id is not None:
            session = ProposalSession.objects.filter(pk=self.session_id).first()
            if session is None:
                return proposals.none(), "session"
            proposals, last = proposals.filter(session__chamber=session.chamber), session.year
        if last is not None:
            proposals = proposals.filter(session__year__lte=last, session__year__gt=last - TREND_YEARS)
        return proposals, "session"

    def _range_bucket(self) -> Bucket:
        if self.date_from is None or self.date_to is None:
            return "year"
        months = (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
        return "month" if months <= MONTHLY_UP_TO else "year"


def current_session_year() -> int | None:
    """The session year statistics open on: the newest one whose proposals have reached bureaus (the year
    just opened for submissions has only drafts), else the newest session, else none."""
    reached = Proposal.objects.filter(assigned_at__isnull=False).order_by("-session__year")
    year = reached.values_list("session__year", flat=True).first()
    if year is None:
        year = ProposalSession.objects.order_by("-year").values_list("year", flat=True).first()
    return year


@dataclass(frozen=True)
class Period:
    """One step of the trend: a session year (``2026``) or a month of submission (``2026-03``)."""

    name: str
    start: date
    figures: Figures


def over_time(proposals: QuerySet[Proposal], *, by: Bucket) -> list[Period]:
    """The overall figures per session year, per year or per month of submission (local time), oldest
    first; steps without any assigned proposal are left out."""
    key: Any
    rating_key: Any
    if by == "session":
        key, rating_key = F("session__year"), F("proposal__session__year")
    elif by == "month":
        key, rating_key = TruncMonth("submitted_at"), TruncMonth("proposal__submitted_at")
    else:
        key, rating_key = TruncYear("submitted_at"), TruncYear("proposal__submitted_at")
    communicated = Exists(Communication.objects.filter(proposal=OuterRef("pk")))
    reached = proposals.filter(assigned_at__isnull=False)
    rows = (
        reached.annotate(talked=communicated, step=key)
        .values("step")
        .annotate(
            assigned=Count("pk"),
            replied=Count("pk", filter=Q(first_replied_at__isnull=False)),
            on_time=Count("pk", filter=Q(replied_on_time=True)),
            communicated=Count("pk", filter=Q(first_replied_at__isnull=False, talked=True)),
            **_class_counts(),
        )
        .order_by("step")
    )
    ratings = {
        r["step"]: r
        for r in Feedback.objects.filter(proposal__in=reached)
        .annotate(step=rating_key)
        .values("step")
        .annotate(ratings=Count("pk"), satisfied=Count("pk", filter=Q(result__in=GOOD)))
    }
    return [_period(row["step"], by, _figures(row, ratings.get(row["step"], {}))) for row in rows]


def _period(step: Any, by: Bucket, figures: Figures) -> Period:
    if by == "session":
        return Period(str(step), date(step, 1, 1), figures)
    start = timezone.localtime(step).date() if isinstance(step, datetime) else step
    return Period(f"{start:%Y-%m}" if by == "month" else f"{start:%Y}", start, figures)


@dataclass(frozen=True)
class Report:
    """Everything the statistics page, the API and the exports show for one scope."""

    scope: Scope
    overall: Figures
    per_bureau: list[BureauFigures]
    trend_by: Bucket
    over_time: list[Period]


def report(proposals: QuerySet[Proposal], scope: Scope) -> Report:
    """The figures of ``scope`` among ``proposals`` (already narrowed to what the viewer may see)."""
    chosen = scope.apply(proposals)
    trend, by = scope.trend(proposals)
    return Report(scope, overall(chosen), per_bureau(chosen), by, over_time(trend, by=by))
