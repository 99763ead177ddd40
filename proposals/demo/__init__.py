"""The proposals of the demo city 海滨市: ten closed sessions of 建议 and 提案, and one open per chamber.

- ``seed_proposals(count)``: variants of the 300 written proposals in ``fixtures/demo/proposals.jsonl``,
  each taken through the cycle as far as its plan says (older sessions mostly closed, 2026 spread over
  every state, 2027 a few drafts), with the rows and timeline events the services would have written.
  Deterministic for a seed, and idempotent: once the closed sessions hold proposals it does nothing.
- ``build_benchmark_corpus(n)``: the same on an empty database, with the people and calendar first
  (100 000 proposals for ``tests/bench``).

``plan`` decides what happens and when, ``story`` writes the rows of one proposal as the services
would, ``rows`` writes them in bulk; ``texts`` and ``timing``/``timeline`` supply words and moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from time import perf_counter

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import translation

from consult.demo.city import CPPCC_TERM, NPC_TERM, seed_people
from consult.models import Bureau, DeputyProfile, HandlerProfile, User
from consult.people.roles import Chamber, Role
from proposals.demo.plan import OPEN_YEAR, YEARS, BureauRef, Cast, Person, Planner, SessionRef, Spec
from proposals.demo.rows import Rows, given_timestamps
from proposals.demo.story import World, tell_all
from proposals.demo.timing import Clock
from proposals.models import Proposal, ProposalSession
from proposals.rules import current_rules
from proposals.workdays import seed_calendar

__all__ = ["SeedReport", "build_benchmark_corpus", "seed_proposals", "seed_sessions"]

SEED = 2027
CHUNK = 2000  # proposals told and written at a time: bounded memory for the 100 000 of the benchmark
ORDINALS = "一二三四五六七八九十"
PREFIX = {Chamber.NPC: "建", Chamber.CPPCC: "提"}
AREA_CODE = "0580"


@dataclass(frozen=True)
class SeedReport:
    created: int
    sessions: int
    statuses: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: bool = False

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        states = ", ".join(f"{status} {n}" for status, n in sorted(self.statuses.items(), key=lambda kv: -kv[1]))
        done = "already there" if self.skipped else f"{self.created} created in {self.seconds:.1f} s"
        return f"{self.total} proposals in {self.sessions} sessions ({done}): {states}"


def session_name(chamber: str, year: int) -> str:
    """2022 was the first session of the current term: 海滨市第十六届人民代表大会第一次会议."""
    ordinal = ORDINALS[year - YEARS[0]]
    term = NPC_TERM if chamber == Chamber.NPC else CPPCC_TERM
    return f"{term}第{ordinal}次会议"


def seed_sessions() -> dict[tuple[str, int], SessionRef]:
    """One session per chamber and year; only the latest (2027) accepts proposals."""
    sessions = {}
    for year in YEARS:
        for chamber in Chamber:
            session, _created = ProposalSession.objects.update_or_create(
                chamber=chamber,
                year=year,
                defaults={
                    "name": session_name(chamber, year),
                    "number_prefix": PREFIX[chamber],
                    "is_open": year == OPEN_YEAR,
                },
            )
            sessions[(str(chamber), year)] = SessionRef(session.pk, str(chamber), year, session.number_prefix)
    return sessions


def load_cast() -> Cast:
    """The people ``consult.demo.city.seed_people`` made, in a fixed order (so the plan is the same each run)."""
    people = {u.username: Person(u.pk, u.full_name) for u in User.objects.filter(username__in=["deputy", "member"])}
    handler = User.objects.filter(username="handler").values_list("pk", "full_name").first()
    if len(people) < 2 or handler is None:
        raise RuntimeError("the demo people are missing: run consult.demo.city.seed_people() first")
    deputies: dict[str, list[Person]] = {str(c): [] for c in Chamber}
    rows = DeputyProfile.objects.filter(user__is_active=True).exclude(user__username__in=["deputy", "member"])
    for user_id, name, chamber in rows.order_by("user__username").values_list("user_id", "user__full_name", "chamber"):
        deputies[chamber].append(Person(user_id, name))
    handlers: dict[int, list[Person]] = {}
    for bureau_id, user_id, name in (
        HandlerProfile.objects.filter(user__is_active=True, user__role=Role.HANDLER)
        .order_by("user__username")
        .values_list("bureau_id", "user_id", "user__full_name")
    ):
        handlers.setdefault(bureau_id, []).append(Person(user_id, name))
    bureaus = [
        BureauRef(b.pk, b.name, b.full_name, b.sort_order, tuple(handlers.get(b.pk, ())), _phone(b.sort_order))
        for b in Bureau.objects.filter(is_active=True).order_by("sort_order", "id")
        if handlers.get(b.pk)
    ]
    staff = User.objects.filter(role=Role.STAFF, is_active=True).order_by("username").values_list("pk", "full_name")
    return Cast(
        deputies={chamber: tuple(members) for chamber, members in deputies.items()},
        demo_deputy=people["deputy"],
        demo_member=people["member"],
        demo_handler=Person(*handler),
        staff=tuple(Person(pk, name) for pk, name in staff),
        bureaus={b.name: b for b in bureaus},
        bureaus_by_id={b.id: b for b in bureaus},
    )


def _phone(sort_order: int) -> str:
    """The office line of a bureau's proposals desk (a made-up number of the made-up city)."""
    return f"{AREA_CODE}-87{sort_order:02d}{(sort_order * 7919) % 10000:04d}"


def _chunks(specs: list[Spec]) -> Iterator[list[Spec]]:
    iterator = iter(specs)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _write(specs: list[Spec], world: World) -> dict[str, int]:
    totals: dict[str, int] = {}
    with given_timestamps(), translation.override(settings.LANGUAGE_CODE):
        for chunk in _chunks(specs):
            tell_all(chunk, world)
            world.rows.flush(totals)
    return totals


def _renumber_sessions(sessions: dict[tuple[str, int], SessionRef]) -> None:
    """Registration goes on from the highest number the demo gave out in each session."""
    highest = dict(
        Proposal.objects.filter(session_id__in=[s.id for s in sessions.values()])
        .values("session_id")
        .annotate(top=Max("number"))
        .values_list("session_id", "top")
    )
    for session in sessions.values():
        top = highest.get(session.id) or 0
        ProposalSession.objects.filter(pk=session.id, next_number__lte=top).update(next_number=top + 1)


def _statuses() -> dict[str, int]:
    return dict(Proposal.objects.values("status").annotate(n=Count("id")).values_list("status", "n"))


@transaction.atomic
def seed_proposals(count: int = 3000, *, seed: int = SEED, detail: bool = True) -> SeedReport:
    """Fill the demo sessions with ``count`` proposals, once. Needs ``seed_people`` and the calendar first.

    ``detail=False`` leaves out what only timelines and handling pages read (events, communications,
    opinions, sign-offs, ratings): proposals, co-signers, assignments and replies are all there.
    """
    started = perf_counter()
    sessions = seed_sessions()
    closed = [s.id for s in sessions.values() if s.year != OPEN_YEAR]
    if Proposal.objects.filter(session_id__in=closed).exists():
        return SeedReport(created=0, sessions=len(sessions), statuses=_statuses(), skipped=True)
    clock = Clock()
    cast = load_cast()
    specs = Planner(cast=cast, sessions=sessions, clock=clock, seed=seed).plan(count)
    world = World(cast=cast, clock=clock, rules=current_rules(), rows=Rows(detail=detail), seed=seed)
    totals = _write(specs, world)
    _renumber_sessions(sessions)
    return SeedReport(
        created=totals.get("proposals", 0) + totals.get("merged", 0),
        sessions=len(sessions),
        statuses=_statuses(),
        rows=totals,
        seconds=perf_counter() - started,
    )


def build_benchmark_corpus(n: int, *, seed: int = SEED, detail: bool = True) -> SeedReport:
    """``n`` proposals (and the people and calendar they need) on a database without demo proposals yet."""
    seed_people()
    seed_calendar()
    return seed_proposals(n, seed=seed, detail=detail)
