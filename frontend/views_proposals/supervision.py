"""The office's supervision desk (督办); its statistics (办理统计) are in ``statistics``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from consult.models import Bureau, User
from frontend.forms import OverdueFilterForm
from frontend.views_proposals.common import BoundForms, current_user, deadline, require_office, unshown_errors
from frontend.views_proposals.offers import Item, allowed
from frontend.views_proposals.registry import form_for, take_refused
from proposals import workdays, worklists
from proposals.access import recipients_of
from proposals.actions import Action
from proposals.models import (
    Assignment,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    Proposal,
    Rating,
    Reply,
    ReplyStatus,
    Status,
)
from proposals.models.choices import OPEN_ASSIGNMENT
from proposals.publication import awaiting_publication
from proposals.rules import current_rules

LIMIT = 50  # rows per section (the rest is counted) and per page of the overdue list


@dataclass(frozen=True)
class Section:
    rows: list[Any]
    total: int


def _section(queryset: QuerySet[Any], build: Any = None) -> Section:
    rows = list(queryset[:LIMIT])
    return Section([build(row) for row in rows] if build else rows, queryset.count())


@login_required
def supervision_desk(request: HttpRequest) -> HttpResponse:
    bound, status = take_refused(request, current_user(request))
    return render_supervision(request, bound, status=status)


def render_supervision(request: HttpRequest, bound: BoundForms | None = None, *, status: int = 200) -> HttpResponse:
    user = current_user(request)
    require_office(user)
    bound = bound or {}
    visible = Proposal.objects.visible_to(user)
    today = timezone.localdate()
    soon_until = workdays.add_working_days(today, current_rules().due_soon_working_days)
    open_assignments = (
        Assignment.objects.filter(status__in=OPEN_ASSIGNMENT, proposal__in=visible)
        .annotate(due=Coalesce("reply_due", "opinion_due"))
        .select_related("proposal__session", "bureau")
        .order_by("due", "pk")
    )

    def due_row(assignment: Assignment) -> tuple[Assignment, Any]:
        return assignment, deadline(assignment.due, today)  # type: ignore[attr-defined]

    def urge_row(assignment: Assignment) -> Item:
        proposal = assignment.proposal
        offered = {"urge": form_for(Action.URGE, user, proposal, bound, target=assignment.pk)}
        due = deadline(assignment.due, today)  # type: ignore[attr-defined]
        return Item(assignment, offered if allowed(Action.URGE, proposal) else {}, {"due": due})

    def decide(request_: ExtensionRequest) -> Item:
        proposal = request_.assignment.proposal
        offered = {"decide_extension": form_for(Action.DECIDE_EXTENSION, user, proposal, bound, target=request_.pk)}
        return Item(request_, offered if allowed(Action.DECIDE_EXTENSION, proposal) else {})

    def review(reply: Reply) -> Item:
        offered = {"review_reply": form_for(Action.REVIEW_REPLY, user, reply.proposal, bound, target=reply.pk)}
        return Item(reply, offered if allowed(Action.REVIEW_REPLY, reply.proposal) else {})

    unsatisfied_ratings = _unsatisfied_ratings(visible)

    def dissatisfaction(proposal: Proposal) -> Item:
        offered = {"review_dissatisfaction": form_for(Action.REVIEW_DISSATISFACTION, user, proposal, bound)}
        return Item(proposal, offered, {"ratings": unsatisfied_ratings.get(proposal.pk, [])})

    def publish(reply: Reply) -> Item:
        forms = {"publish": form_for(Action.PUBLISH, user, reply.proposal, bound, target=reply.pk)}
        return Item(reply, forms, {"due": deadline(reply.publication_due, today)})

    def late_publication(reply: Reply) -> tuple[Reply, Any]:
        return reply, deadline(reply.publication_due, today)

    to_publish = (
        awaiting_publication().filter(proposal__in=visible).select_related("proposal__session", "assignment__bureau")
    )

    filters = OverdueFilterForm(request.GET or None, bureaus=Bureau.objects.visible_to(user))
    chosen = filters.cleaned_data if filters.is_valid() else {}
    overdue = worklists.overdue_assignments(
        user,
        worklists.OverdueFilter(chosen.get("bureau"), chosen.get("min_days") or 0, chosen.get("kind") or ""),
        today,
    )
    page = Paginator(overdue, LIMIT).get_page(request.GET.get("page"))
    context = {
        "overdue": Section([urge_row(a) for a in page], page.paginator.count),
        "overdue_page": page,
        "filters": filters,
        "query": _query_without_page(request),
        "due_soon": _section(open_assignments.filter(due__gte=today, due__lte=soon_until), due_row),
        "extensions": _section(
            ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING, assignment__proposal__in=visible)
            .select_related("assignment__bureau", "assignment__proposal__session")
            .order_by("requested_at"),
            decide,
        ),
        "reviews": _section(
            Reply.objects.filter(status=ReplyStatus.REVIEW, proposal__in=visible)
            .select_related("proposal__session", "assignment__bureau")
            .order_by("submitted_at"),
            review,
        ),
        "unsatisfied": _section(
            visible.filter(dissatisfaction_pending=True).select_related("session").order_by("updated_at"),
            dissatisfaction,
        ),
        "to_publish": _section(to_publish, publish),  # 待公开, earliest publication due first
        "publication_overdue": _section(to_publish.filter(publication_due__lt=today), late_publication),  # 公开逾期
        "awaiting_feedback": _section(
            visible.filter(status__in=[Status.REPLIED, Status.FOLLOW_UP], dissatisfaction_pending=False)
            .select_related("session")
            .order_by("first_replied_at", "pk"),
            lambda p: _feedback_item(user, p, bound),
        ),
        "publication_working_days": current_rules().publication_working_days,
        "return_to": "supervision",
    }
    context["refused"] = unshown_errors(bound)
    if filters.is_bound and not filters.is_valid():
        status = 400
    return render(request, "frontend/proposals/supervision.html", context, status=status)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _unsatisfied_ratings(visible: QuerySet[Proposal]) -> dict[int, list[Feedback]]:
    ratings: dict[int, list[Feedback]] = {}
    unsatisfied = Feedback.objects.filter(
        proposal__in=visible.filter(dissatisfaction_pending=True), result=Rating.UNSATISFIED
    ).select_related("rater")
    for rating in unsatisfied:
        ratings.setdefault(rating.proposal_id, []).append(rating)
    return ratings


def _feedback_item(user: User, proposal: Proposal, bound: BoundForms) -> Item:
    """Close it, or type in a paper rating for each reply of this round some rater has not rated yet."""
    offered: dict[str, Any] = {}
    if allowed(Action.CLOSE, proposal):
        offered["close"] = form_for(Action.CLOSE, user, proposal, bound)
    raters = recipients_of(proposal)
    replies = proposal.replies.filter(status=ReplyStatus.SENT, round=proposal.rehandling_round).select_related(
        "assignment__bureau"
    )
    papers: list[tuple[Reply, Any]] = []
    for reply in replies:
        rated = set(reply.feedback.values_list("rater_id", flat=True))
        if raters - rated and allowed(Action.RATE_REPLY, proposal):
            papers.append((reply, form_for(Action.RECORD_PAPER_FEEDBACK, user, proposal, bound, target=reply.pk)))
    return Item(proposal, offered, {"papers": papers})
