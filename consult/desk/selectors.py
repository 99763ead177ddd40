"""Reads of the consultation desk, scoped by ``consult.desk.access.consultations_visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from consult.desk import providers
from consult.desk.access import consultations_visible_to
from consult.models import (
    Bureau,
    Consultation,
    ConsultationStatus,
    ExpertPresence,
    ExpertProfile,
    Outcome,
    PresenceStatus,
)
from consult.people.selectors import Viewer, bureau_id_of

PRESENCE_TIMEOUT = timedelta(seconds=90)


def present_experts(now: datetime | None = None) -> QuerySet[ExpertPresence]:
    moment = now or timezone.now()
    return ExpertPresence.objects.filter(
        status=PresenceStatus.ONLINE, connections__gt=0, last_seen__gt=moment - PRESENCE_TIMEOUT
    )


def online_counts() -> dict[int, int]:
    """Bureau id -> number of experts online now (what a deputy sees when picking a bureau)."""
    rows = present_experts().values("expert__bureau_id").annotate(n=Count("pk"))
    return {row["expert__bureau_id"]: row["n"] for row in rows}


def bureau_queue(bureau_id: int) -> QuerySet[Consultation]:
    return (
        Consultation.objects.filter(bureau_id=bureau_id, status=ConsultationStatus.QUEUED)
        .order_by("created_at", "id")
        .select_related("deputy", "requested_expert__user")
    )


def open_consultations(user: Viewer) -> QuerySet[Consultation]:
    """The consultations ``user`` may read that wait or are in progress, oldest first (a deputy's to-do list)."""
    waiting = (ConsultationStatus.QUEUED, ConsultationStatus.ACTIVE)
    return consultations_visible_to(user).filter(status__in=waiting).order_by("created_at", "id")


def expert_workbench(user: Viewer) -> dict[str, Any]:
    """The expert's active consultations and their bureau's queue."""
    bureau_id = bureau_id_of(user)
    uid = int(user.pk or 0)
    active = consultations_visible_to(user).filter(status=ConsultationStatus.ACTIVE, expert__user_id=uid)
    return {
        "active": list(active.order_by("assigned_at")),
        # the bureau's queue as this expert may read it (one named for a colleague is theirs alone: access.py)
        "queue": list(bureau_queue(bureau_id).filter(pk__in=consultations_visible_to(user).values("pk")))
        if bureau_id is not None
        else [],
        "presence": ExpertPresence.objects.filter(expert__user_id=uid).first(),
    }


def deputy_history(consultation: Consultation) -> dict[str, Any]:
    """Beside the chat, for the expert: the deputy's earlier proposals and consultations, with outcomes."""
    earlier = (
        Consultation.objects.filter(deputy_id=consultation.deputy_id)
        .exclude(pk=consultation.pk)
        .select_related("bureau")
        .order_by("-created_at")[:20]
    )
    return {"consultations": list(earlier), "proposals": list(providers.earlier_proposals(consultation.deputy_id))}


def experts_with_presence(bureau: Bureau) -> list[tuple[ExpertProfile, bool]]:
    present = set(present_experts().filter(expert__bureau=bureau).values_list("expert_id", flat=True))
    experts = ExpertProfile.objects.filter(bureau=bureau, user__is_active=True)
    return [(expert, expert.pk in present) for expert in experts.select_related("user").order_by("id")]


@dataclass(frozen=True)
class DeskFigures:
    deputies_served: int
    consultations: int
    answered_on_the_spot: int
    waiting_now: int
    average_wait_seconds: float | None
    active_now: int = 0  # 咨询中
    ended: int = 0  # 已结束


def desk_figures(consultations: QuerySet[Consultation]) -> DeskFigures:
    wait = ExpressionWrapper(F("assigned_at") - F("created_at"), output_field=DurationField())
    row = consultations.aggregate(
        deputies=Count("deputy", distinct=True),
        total=Count("pk"),
        answered=Count("pk", filter=Q(outcome=Outcome.ANSWERED)),
        waiting=Count("pk", filter=Q(status=ConsultationStatus.QUEUED)),
        active=Count("pk", filter=Q(status=ConsultationStatus.ACTIVE)),
        ended=Count("pk", filter=Q(status=ConsultationStatus.ENDED)),
        wait=Avg(wait, filter=Q(assigned_at__isnull=False)),
    )
    average = row["wait"].total_seconds() if row["wait"] is not None else None
    return DeskFigures(
        row["deputies"], row["total"], row["answered"], row["waiting"], average, row["active"], row["ended"]
    )


def desk_figures_per_bureau(consultations: QuerySet[Consultation]) -> list[tuple[Bureau, DeskFigures]]:
    bureau_ids = consultations.values_list("bureau_id", flat=True).distinct()
    bureaus = Bureau.objects.filter(pk__in=bureau_ids).order_by("sort_order", "id")
    return [(bureau, desk_figures(consultations.filter(bureau=bureau))) for bureau in bureaus]


# --- the deputy's desk: which bureau, how long a wait (issue 15, point 6) ------------------------------------------

DEFAULT_HANDLING = timedelta(minutes=8)  # a consultation's length where a bureau has no recent history
HANDLING_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class DeskBureau:
    bureau: Bureau
    online: int


def desk_bureaus(user: Viewer) -> list[DeskBureau]:
    """The active bureaus the user sees, those with most experts online first (then the bureaus' own order)."""
    counts = online_counts()
    bureaus = Bureau.objects.visible_to(user).filter(is_active=True)
    rows = [DeskBureau(bureau, counts.get(bureau.pk, 0)) for bureau in bureaus]
    return sorted(rows, key=lambda row: (-row.online, row.bureau.sort_order, row.bureau.pk))


def handling_time(bureau_id: int, now: datetime | None = None) -> timedelta:
    """How long the bureau's consultations of the last 30 days lasted on average (an expert taking one to its end)."""
    since = (now or timezone.now()) - HANDLING_WINDOW
    length = ExpressionWrapper(F("ended_at") - F("assigned_at"), output_field=DurationField())
    recent = Consultation.objects.filter(
        bureau_id=bureau_id, ended_at__gte=since, assigned_at__isnull=False, ended_at__isnull=False
    )
    average: timedelta | None = recent.aggregate(average=Avg(length))["average"]
    return average if average and average > timedelta(0) else DEFAULT_HANDLING


def expected_wait(consultation: Consultation, position: int | None) -> int | None:
    """Minutes until an expert is likely to take this waiting consultation: the consultations ahead of it, shared by
    the bureau's experts online, each as long as the bureau's recent average. None: nobody online (it waits for an
    expert to come online), or it no longer waits."""
    if position is None:
        return None
    if consultation.requested_expert_id is not None:
        online = present_experts().filter(expert_id=consultation.requested_expert_id).count()
    else:
        online = online_counts().get(consultation.bureau_id, 0)
    if online == 0:
        return None
    minutes = position * handling_time(consultation.bureau_id).total_seconds() / 60 / online
    return max(1, round(minutes))
