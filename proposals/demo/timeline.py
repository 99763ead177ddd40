"""The moments of one demo proposal's main line: submitted, registered, assigned, replied, rated, closed.

Finished cases run forward from the session in January. Cases still under way run backward from now,
so their deadlines fall around today: some overdue, some due soon, most later. Side events
(co-signing, talks with the deputy, opinions, ratings) are placed by the story between these moments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, TypeVar

from proposals.demo.timing import Clock, meeting
from proposals.models import Status

if TYPE_CHECKING:
    from proposals.demo.plan import Spec

S = Status
T = TypeVar("T")
LATEST_YEAR = 2026  # the year whose proposals are spread over every state
UNDER_WAY = frozenset({S.SUBMITTED, S.REGISTERED, S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REPLIED, S.REHANDLING})


def need(value: T | None) -> T:
    """A moment an earlier step must have set (a bug in the planner otherwise)."""
    if value is None:
        raise RuntimeError("the demo plan skipped a step")
    return value


@dataclass
class Timeline:
    draft: datetime
    submit: datetime | None = None
    register: datetime | None = None
    decided: datetime | None = None  # not registered, turned into a letter, or merged
    first_assign: datetime | None = None  # a lead that returned the proposal (退办) had it from here
    returned: datetime | None = None
    assign: datetime | None = None
    accept: datetime | None = None
    extension_asked: datetime | None = None
    extension_decided: datetime | None = None
    first_reply_submit: datetime | None = None  # the draft the office sent back
    reply_returned: datetime | None = None
    reply_submit: datetime | None = None
    send: datetime | None = None
    rated: datetime | None = None  # the last rating of round 1 (or the unsatisfied one)
    reviewed: datetime | None = None  # the office reviewed an unsatisfied rating
    accept2: datetime | None = None
    reply2_submit: datetime | None = None
    send2: datetime | None = None
    rated2: datetime | None = None
    closed: datetime | None = None  # a follow-up reply, or the office closing it


class When:
    """Random moments after or before another, in office hours (office, bureaus) or waking hours (deputies).

    Nothing is ever later than a few minutes before now.
    """

    def __init__(self, clock: Clock, rng: random.Random) -> None:
        self.clock, self.rng = clock, rng
        self.limit = clock.now - timedelta(minutes=5)

    def _days(self, lo: float, hi: float) -> timedelta:
        return timedelta(days=self.rng.uniform(lo, hi))

    def _cap(self, moment: datetime, after: datetime) -> datetime:
        latest = max(self.limit, after + timedelta(seconds=30))
        return min(max(moment, after + timedelta(minutes=1)), latest)

    def office_after(self, moment: datetime, lo: float, hi: float) -> datetime:
        return self._cap(self.clock.office(moment + self._days(lo, hi), self.rng), moment)

    def deputy_after(self, moment: datetime, lo: float, hi: float) -> datetime:
        return self._cap(self.clock.awake(moment + self._days(lo, hi), self.rng), moment)

    def office_before(self, moment: datetime, lo: float, hi: float) -> datetime:
        return self.clock.office(moment - self._days(lo, hi), self.rng, backward=True)

    def deputy_before(self, moment: datetime, lo: float, hi: float) -> datetime:
        return self.clock.awake(moment - self._days(lo, hi), self.rng, backward=True)

    def between(self, start: datetime, end: datetime, *, office: bool = True) -> datetime:
        """A moment strictly inside (start, end), in office (or waking) hours when one is there."""
        if end <= start + timedelta(seconds=2):
            return start + timedelta(seconds=1)
        moment = start + (end - start) * self.rng.uniform(0.05, 0.95)
        snap = self.clock.office if office else self.clock.awake
        for candidate in (snap(moment, self.rng), snap(moment, self.rng, backward=True)):
            if start < candidate < end:
                return candidate
        return moment  # no office hours in between: the odd late-night entry

    def spread(self, start: datetime, end: datetime, n: int, *, office: bool = True) -> list[datetime]:
        """``n`` increasing moments inside (start, end)."""
        moments: list[datetime] = []
        for _ in range(n):
            moments.append(self.between(moments[-1] if moments else start, end, office=office))
        return moments

    def session_submission(self, chamber: str, year: int, *, whole_year: bool) -> datetime:
        """Most proposals are handed in around the session; some during the year (闭会期间)."""
        opens, closes = meeting(chamber, year)
        if whole_year and self.rng.random() < 0.15:
            day = closes + timedelta(days=self.rng.randint(15, 230))
        else:
            day = min(opens - timedelta(days=self.rng.randint(-5, 10)), closes)
        return self.clock.at(day, time(8, 0)) + timedelta(minutes=self.rng.randint(0, 14 * 60))


def timeline_of(spec: Spec, clock: Clock, rng: random.Random) -> Timeline:
    when = When(clock, rng)
    if spec.state == S.DRAFT:
        return Timeline(draft=when.deputy_before(clock.now, 0.05, 30))
    if spec.state in UNDER_WAY and spec.session.year >= LATEST_YEAR:
        return _Backward(spec, when).timeline()
    return _Forward(spec, when).timeline()


def merged_timeline(primary: Timeline, clock: Clock, rng: random.Random, *, registered: bool) -> Timeline:
    """Merged (并案) soon after the primary was registered; handed in around the same time."""
    when = When(clock, rng)
    register, submitted = need(primary.register), need(primary.submit)
    limit = min(primary.first_assign or primary.assign or when.limit, register + timedelta(days=3))
    decided = when.between(register, limit)
    submit = min(when.deputy_before(submitted, -2, 4), decided - timedelta(hours=6))
    tl = Timeline(draft=when.deputy_before(submit, 0.05, 6), submit=submit, decided=decided)
    if registered:
        tl.register = when.between(submit, decided)
    return tl


class _Forward:
    """A finished case (or one in follow-up), from the session onwards."""

    def __init__(self, spec: Spec, when: When) -> None:
        self.spec, self.when, self.rng = spec, when, when.rng

    def timeline(self) -> Timeline:
        spec, when = self.spec, self.when
        year = spec.session.year
        submit = when.session_submission(spec.session.chamber, year, whole_year=year < LATEST_YEAR)
        tl = Timeline(draft=when.deputy_before(submit, 0.05, 9), submit=submit)
        if spec.state == S.NOT_REGISTERED or (spec.state == S.LETTER and self.rng.random() < 0.7):
            tl.decided = when.office_after(submit, 3, 20)
            return tl
        tl.register = when.office_after(submit, 2, 18)
        if spec.state == S.LETTER:
            tl.decided = when.office_after(tl.register, 1, 10)
            return tl
        if spec.wrong_lead:
            tl.first_assign = when.office_after(tl.register, 5, 25)
            tl.returned = when.office_after(tl.first_assign, 1, 8)
            tl.assign = when.office_after(tl.returned, 1, 5)
        else:
            tl.assign = when.office_after(tl.register, 5, 25)
        handle_and_reply(spec, tl, when)
        self._after_reply(tl)
        return tl

    def _after_reply(self, tl: Timeline) -> None:
        spec, when, flags = self.spec, self.when, self.spec.flags
        send = need(tl.send)
        if "office_close" in flags:
            tl.closed = when.office_after(send, 35, 60)
            return
        tl.rated = done = when.deputy_after(send, 5, 30)
        if spec.rehandled or "dismissed" in flags:
            tl.reviewed = done = when.office_after(tl.rated, 2, 10)
        if spec.rehandled:
            tl.accept2 = when.office_after(done, 0.1, 3)
            tl.reply2_submit = when.office_after(tl.accept2, 10, 26)
            tl.send2 = when.office_after(tl.reply2_submit, 1, 5)
            tl.rated2 = done = when.deputy_after(tl.send2, 3, 20)
        if flags & {"follow_up_reply", "follow_up_closed"}:  # months later, and not just now
            latest = min(done + timedelta(days=280), when.limit - timedelta(days=1))
            earliest = done + timedelta(days=45)
            tl.closed = when.between(earliest, latest) if earliest < latest else when.between(done, when.limit)


class _Backward:
    """A case still under way: its latest step was recent, so its deadlines fall around today."""

    def __init__(self, spec: Spec, when: When) -> None:
        self.spec, self.when, self.clock = spec, when, when.clock

    def timeline(self) -> Timeline:
        spec, when, now = self.spec, self.when, self.clock.now
        if spec.state == S.SUBMITTED:
            submit = when.deputy_before(now, 0.3, 20)
            return Timeline(draft=when.deputy_before(submit, 0.05, 6), submit=submit)
        if spec.state == S.REGISTERED:
            return self._until_registered(when.office_before(now, 0.3, 12))
        tl = self._anchor()
        assign = need(tl.assign)
        if spec.wrong_lead:
            tl.first_assign = when.office_before(assign, 4, 10)
            tl.returned = when.between(tl.first_assign, assign)
        early = self._until_registered(when.office_before(tl.first_assign or assign, 3, 15))
        tl.draft, tl.submit, tl.register = early.draft, early.submit, early.register
        if spec.state != S.ASSIGNED:
            handle_and_reply(spec, tl, when)
        return tl

    def _until_registered(self, register: datetime) -> Timeline:
        submit = self.when.deputy_before(register, 1, 10)
        return Timeline(draft=self.when.deputy_before(submit, 0.05, 8), submit=submit, register=register)

    def _anchor(self) -> Timeline:
        """The assignment, placed so that the case's current step is recent."""
        spec, when, clock, rng = self.spec, self.when, self.clock, self.when.rng
        now = clock.now
        tl = Timeline(draft=now)
        if spec.state == S.ASSIGNED:
            if "fresh" in spec.flags or rng.random() < 0.85:
                tl.assign = when.office_before(now, 0.1, 10 if "fresh" not in spec.flags else 3)
            else:
                tl.assign = when.office_before(now, 15, 40)
        elif spec.state == S.HANDLING:
            if spec.due_offset is None:
                spec.due_offset = random_due_offset(rng)
            day = clock.months_before(clock.today + timedelta(days=spec.due_offset), 3)
            tl.assign = min(clock.office(clock.at(day, time(10, 0)), rng), when.office_before(now, 1, 2))
        elif spec.state == S.REPLY_REVIEW:
            tl.reply_submit = when.office_before(now, 0.1, 6)
            tl.assign = when.office_before(tl.reply_submit, 30, 78)
        elif spec.state == S.REPLIED:
            tl.send = when.office_before(now, 0.3, 25)
            tl.reply_submit = when.office_before(tl.send, 1.5, 6)
            tl.assign = when.office_before(tl.reply_submit, 30, 78)
        else:  # re-handling: the office confirmed an unsatisfied rating a few weeks ago
            tl.reviewed = when.office_before(now, 1, 40)
            tl.rated = when.deputy_before(tl.reviewed, 1, 8)
            tl.send = when.office_before(tl.rated, 3, 20)
            tl.reply_submit = when.office_before(tl.send, 1.5, 6)
            tl.assign = when.office_before(tl.reply_submit, 30, 78)
            if rng.random() < 0.7:
                tl.accept2 = when.office_after(tl.reviewed, 0.1, 3)
        return tl


def random_due_offset(rng: random.Random) -> int:
    """Days from today to a reply deadline: a fifth overdue, a fifth due within a week."""
    roll = rng.random()
    if roll < 0.2:
        return -rng.randint(1, 35)
    if roll < 0.4:
        return rng.randint(0, 7)
    return rng.randint(8, 85)


def handle_and_reply(spec: Spec, tl: Timeline, when: When) -> None:
    """From the (final) assignment to the reply being sent, as far as the state goes."""
    clock, flags, state = when.clock, spec.flags, spec.state
    assign = need(tl.assign)
    upper = tl.reply_submit or tl.send or when.limit
    accept = when.office_after(assign, 0.1, 4)
    tl.accept = accept if accept < upper else when.between(assign, upper)
    if state == S.HANDLING:
        if "extension_pending" in flags:
            tl.extension_asked = when.between(tl.accept, when.limit)
        return
    if tl.reply_submit is not None:  # anchored near now: neither late nor extended
        flags -= {"late", "extended"}
    elif "extended" in flags:
        due = clock.add_months(clock.local(assign).date(), 3)
        tl.extension_asked = when.office_after(assign, 55, 80)
        tl.extension_decided = when.office_after(tl.extension_asked, 0.5, 4)
        tl.reply_submit = when.office_after(clock.at(due, time(12, 0)), 2, 25)
    elif "late" in flags:
        tl.reply_submit = when.office_after(assign, 90, 110)
    else:
        tl.reply_submit = when.office_after(assign, 28, 78)
    if "reply_returned" in flags:
        tl.first_reply_submit = when.between(tl.extension_decided or tl.accept, tl.reply_submit)
        tl.reply_returned = when.between(tl.first_reply_submit, tl.reply_submit)
    if state != S.REPLY_REVIEW and tl.send is None:
        tl.send = when.office_after(tl.reply_submit, 1.5, 8)
