"""Statistics for the office (办理统计): 办复率, 按时办复率, 沟通率, 满意率 and the A/B/C/D distribution,
per bureau and overall. Reads only; the caller scopes the proposals (e.g. one session or year).

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
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from proposals.models import (
    Assignment,
    AssignmentStatus,
    Communication,
    Feedback,
    OutcomeClass,
    Proposal,
    Rating,
    Reply,
    ReplyKind,
    ReplyStatus,
)
from proposals.models.choices import REPLYING_ROLES

GOOD = [Rating.SATISFIED, Rating.BASICALLY]


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
