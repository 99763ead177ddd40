"""Deadlines follow the calendar: an edit of the working-day calendar (a new holiday, a make-up working day,
the provisional year confirmed) counts again every open deadline that depends on a changed day.

- ``calendar_changed(days, actor=...)``: call it in the transaction that changed the calendar (the admin,
  ``seed_calendar``); once it commits, ``recompute_deadlines`` runs.
- ``recompute_deadlines(changed_days=..., actor=...)``: per proposal, in its own transaction and under its
  lock, each open deadline whose count passes a changed day is counted again from what it was counted from
  (``due_basis``, see ``proposals.workdays.DeadlineBasis``): the assignments' return window (退办), reply
  and opinion dues (答复/会办意见, extended or re-handling ones too) and the replies' publication due (公开).
  A timeline entry says which days changed what. Finished assignments and published replies keep their dates.

Co-signing invitations count calendar days (``cosign_days``), so the calendar does not move them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.kernel.texts import Said, label
from consult.models import User
from proposals import texts, workdays
from proposals.actions import Outcome
from proposals.models import (
    Assignment,
    Audience,
    CalendarDay,
    DayKind,
    ExtensionStatus,
    Proposal,
    Reply,
    ReplyStatus,
)
from proposals.models.choices import OPEN_ASSIGNMENT
from proposals.rules import current_rules
from proposals.services._common import bureau_handlers, lock, record, tell
from proposals.services.assignment import refresh_reply_due

ASSIGNMENT_DEADLINES = ("return_by", "reply_due", "opinion_due")


@dataclass(frozen=True)
class Recomputed:
    proposals: int = 0
    deadlines: int = 0


@dataclass
class _Entry:
    """What one timeline entry will say: the deadlines that moved, and the changed days that moved them."""

    lines: list[Said] = field(default_factory=list)
    days: set[date] = field(default_factory=set)

    def add(self, line: Said, days: Iterable[date]) -> None:
        self.lines.append(line)
        self.days.update(days)


@dataclass
class _Moves:
    """The deadlines of one proposal that moved, grouped by who may read about them."""

    public: _Entry = field(default_factory=_Entry)  # reply dues: the deputy sees them
    by_bureau: dict[int, _Entry] = field(default_factory=lambda: defaultdict(_Entry))  # return window, opinion
    office: _Entry = field(default_factory=_Entry)  # publication
    bureaus: set[int] = field(default_factory=set)  # whose own deadlines moved

    @property
    def count(self) -> int:
        entries = [self.public, self.office, *self.by_bureau.values()]
        return sum(len(entry.lines) for entry in entries)


def calendar_changed(days: Iterable[date], *, actor: User | None = None) -> None:
    """The calendar changed on ``days``: once the change commits, move the deadlines that depend on them."""
    changed = sorted(set(days))
    transaction.on_commit(workdays.clear_cache)
    if changed:
        transaction.on_commit(lambda: recompute_deadlines(changed_days=changed, actor=actor))


def seed_calendar(years: Iterable[int] | None = None, *, actor: User | None = None) -> workdays.Seeded:
    """``workdays.seed_calendar_days``, then the deadlines of the days whose working status flipped."""
    with transaction.atomic():
        seeded = workdays.seed_calendar_days(years)
        calendar_changed(seeded.flipped, actor=actor)
    return seeded


def recompute_deadlines(*, changed_days: Iterable[date], actor: User | None = None) -> Recomputed:
    days = sorted(set(changed_days))
    if not days:
        return Recomputed()
    workdays.clear_cache()
    first = days[0]
    # A deadline depends only on days up to itself: one before the first changed day cannot move.
    later = Q(return_by__gte=first) | Q(reply_due__gte=first) | Q(opinion_due__gte=first)
    ids = set(Assignment.objects.filter(later, status__in=OPEN_ASSIGNMENT).values_list("proposal_id", flat=True))
    ids |= set(_unpublished().filter(publication_due__gte=first).values_list("proposal_id", flat=True))
    moved_proposals = moved = 0
    for proposal_id in sorted(ids):
        with transaction.atomic():
            count = _recompute_proposal(proposal_id, days, actor)
        moved_proposals += count > 0
        moved += count
    return Recomputed(proposals=moved_proposals, deadlines=moved)


def _unpublished() -> QuerySet[Reply]:
    return Reply.objects.filter(status=ReplyStatus.SENT, published_at__isnull=True, publication_due__isnull=False)


def _recompute_proposal(proposal_id: int, days: Sequence[date], actor: User | None) -> int:
    proposal = lock(proposal_id)
    moves = _Moves()
    assignments = proposal.assignments.select_for_update(of=("self",)).filter(status__in=OPEN_ASSIGNMENT)
    for assignment in assignments.select_related("bureau"):
        _move_assignment(assignment, days, moves)
    replies = _unpublished().select_for_update(of=("self",)).filter(proposal=proposal)
    for reply in replies.select_related("assignment__bureau"):
        _move_publication(reply, days, moves)
    if moves.count:
        if moves.public.lines:
            refresh_reply_due(proposal)
        _record(proposal, actor, moves)
    return moves.count


def _move_assignment(assignment: Assignment, days: Sequence[date], moves: _Moves) -> None:
    changed: list[str] = []
    for name in ASSIGNMENT_DEADLINES:
        current = getattr(assignment, name)
        basis = _assignment_basis(assignment, name)
        new, counted = _moved(basis, current, days)
        if new is None or current is None:
            continue
        setattr(assignment, name, new)
        changed.append(name)
        line = texts.deadline_moved(assignment.bureau.name, name, current, new)
        entry = moves.public if name == "reply_due" else moves.by_bureau[assignment.bureau_id]
        entry.add(line, counted)
    if changed:
        assignment.save(update_fields=changed)
        moves.bureaus.add(assignment.bureau_id)


def _move_publication(reply: Reply, days: Sequence[date], moves: _Moves) -> None:
    current = reply.publication_due
    basis = workdays.DeadlineBasis.from_json(reply.due_basis.get("publication_due"))
    if basis is None and reply.sent_at is not None:  # sent before bases were kept
        start = timezone.localtime(reply.sent_at).date()
        basis = workdays.DeadlineBasis(start, working_days=current_rules().publication_working_days)
    new, counted = _moved(basis, current, days)
    if new is None or current is None:
        return
    reply.publication_due = new
    reply.save(update_fields=["publication_due"])
    line = texts.deadline_moved(reply.assignment.bureau.name, texts.Deadline.PUBLICATION_DUE, current, new)
    moves.office.add(line, counted)


def _moved(
    basis: workdays.DeadlineBasis | None, current: date | None, days: Sequence[date]
) -> tuple[date | None, list[date]]:
    """The deadline counted again, with the changed days that count for it; None where it stays."""
    if basis is None or current is None:
        return None, []
    counted = [day for day in days if basis.counts(day, current)]
    new = basis.due() if counted else current
    return (None, []) if new == current else (new, counted)


def _assignment_basis(assignment: Assignment, name: str) -> workdays.DeadlineBasis | None:
    """What the deadline was counted from; for an assignment made before bases were kept, the rules' count."""
    stored = workdays.DeadlineBasis.from_json(assignment.due_basis.get(name))
    if stored is not None or assignment.due_basis.get(name) or getattr(assignment, name) is None:
        return stored
    rules = current_rules()
    start = timezone.localtime(assignment.assigned_at).date()
    if name == "return_by":
        return workdays.DeadlineBasis(start, working_days=rules.return_window_working_days)
    if name == "opinion_due":
        return workdays.DeadlineBasis(start, months=rules.co_opinion_months)
    extended = (
        assignment.extension_requests.filter(status=ExtensionStatus.APPROVED).order_by("-decided_at", "-id").first()
    )
    if extended is not None:
        return workdays.DeadlineBasis(extended.requested_due)
    months = rules.reply_months if assignment.round == 1 else rules.rehandling_months
    return workdays.DeadlineBasis(start, months=months)


def describe_days(days: Iterable[date]) -> list[Said]:
    """Each changed day for the timeline: '2027-02-05 春节 (statutory holiday)', '2027-02-07 ordinary day off'
    (a day's name is the calendar's, as entered; the rest is worded in the reader's language)."""
    rows = CalendarDay.objects.in_bulk(sorted(set(days)), field_name="date")
    described = []
    for day in sorted(set(days)):
        row = rows.get(day)
        if row is not None:
            kind = label("proposals.day_kind", DayKind(row.kind).value)
            described.append(texts.NAMED_DAY(day=day.isoformat(), name=row.name, kind=kind))
        elif day.weekday() < workdays.SATURDAY:
            described.append(texts.WORKING_DAY(day=day.isoformat()))
        else:
            described.append(texts.DAY_OFF(day=day.isoformat()))
    return described


def _reason(entry: _Entry) -> Said:
    return texts.calendar_changed(describe_days(entry.days), entry.lines)


def _record(proposal: Proposal, actor: User | None, moves: _Moves) -> None:
    if moves.public.lines:
        record(proposal, actor, Outcome.RECOMPUTE_DEADLINES, reason=_reason(moves.public))
    for bureau_id, entry in moves.by_bureau.items():
        reason = _reason(entry)
        record(
            proposal, actor, Outcome.RECOMPUTE_DEADLINES, reason=reason, audience=Audience.BUREAU, bureau_id=bureau_id
        )
    if moves.office.lines:
        record(proposal, actor, Outcome.RECOMPUTE_DEADLINES, reason=_reason(moves.office), audience=Audience.OFFICE)
    if moves.bureaus:
        tell(bureau_handlers(moves.bureaus), proposal, "deadline.moved", _("A deadline moved with the calendar"))
