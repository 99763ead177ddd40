"""What happens to each demo proposal, and when: the plan the story (``story.py``) turns into rows.

The planner decides, from one seeded ``random.Random``: how many proposals each session gets and in
which state they end (older sessions mostly closed, the latest year spread over every state, the open
session a few drafts), who proposes and co-signs, which bureaus handle them, what goes unusually
(a bureau returns it, the reply is late, the deputy is not satisfied ...), and the moments of each step.
Moments of finished cases run forward from the session in January; cases still under way run backward
from now, so that their deadlines fall around today (some overdue, some due soon).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from consult.people.roles import Chamber
from proposals.demo.texts import Original, originals
from proposals.demo.timeline import LATEST_YEAR, Timeline, merged_timeline, need, random_due_offset, timeline_of
from proposals.demo.timing import Clock
from proposals.models import Status

S = Status
YEARS = (2022, 2023, 2024, 2025, 2026, 2027)
OPEN_YEAR = 2027  # accepting proposals: a few drafts and submissions
YEAR_WEIGHT = {2022: 15, 2023: 16, 2024: 17, 2025: 19, 2026: 30, 2027: 3}
CHAMBER_WEIGHT = {Chamber.NPC: 3, Chamber.CPPCC: 2}
PAST_STATES = {S.CLOSED: 85, S.FOLLOW_UP: 5, S.NOT_REGISTERED: 3, S.MERGED: 4, S.LETTER: 3}
LAST_YEAR_STATES = {S.CLOSED: 78, S.FOLLOW_UP: 12, S.NOT_REGISTERED: 3, S.MERGED: 4, S.LETTER: 3}
LATEST_STATES = {
    S.SUBMITTED: 2,
    S.REGISTERED: 4,
    S.ASSIGNED: 6,
    S.HANDLING: 17,
    S.REPLY_REVIEW: 5,
    S.REPLIED: 9,
    S.REHANDLING: 2,
    S.FOLLOW_UP: 14,
    S.CLOSED: 31,
    S.NOT_REGISTERED: 3,
    S.MERGED: 4,
    S.LETTER: 3,
}
OPEN_STATES = {S.DRAFT: 3, S.SUBMITTED: 2}
REACHED_BUREAU = frozenset({S.ASSIGNED, S.HANDLING, S.REPLY_REVIEW, S.REPLIED, S.REHANDLING, S.FOLLOW_UP, S.CLOSED})
MERGEABLE = REACHED_BUREAU | {S.REGISTERED}  # a proposal can be merged into these
REPLIED_STATES = frozenset({S.REPLIED, S.REHANDLING, S.FOLLOW_UP, S.CLOSED})
FOLLOW_UP_CLASSES = ("B", "C")
TRANSPORT, EDUCATION = "市交通委", "市教委"


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class BureauRef:
    id: int
    name: str
    full_name: str
    sort_order: int
    handlers: tuple[Person, ...]
    phone: str


@dataclass(frozen=True)
class SessionRef:
    id: int
    chamber: str
    year: int
    prefix: str


@dataclass(frozen=True)
class Cast:
    """Everyone the demo proposals need, read once from the people ``seed_people`` made."""

    deputies: dict[str, tuple[Person, ...]]  # by chamber, without the demo logins
    demo_deputy: Person
    demo_member: Person
    demo_handler: Person
    staff: tuple[Person, ...]
    bureaus: dict[str, BureauRef]  # by short name
    bureaus_by_id: dict[int, BureauRef]


@dataclass
class Spec:
    """One proposal to build."""

    key: int
    session: SessionRef
    state: Status
    original: Original
    proposer: Person
    cosigners: list[Person] = field(default_factory=list)
    declined: list[Person] = field(default_factory=list)
    invited: list[Person] = field(default_factory=list)  # drafts only: invitations not answered yet
    lead: str = ""
    co: tuple[str, ...] = ()
    wrong_lead: str = ""  # the bureau that returned it, when one did
    separate: bool = False  # 分办: lead and co each reply
    drafted_class: str = ""
    final_class: str = ""
    second_class: str = ""  # after re-handling
    flags: set[str] = field(default_factory=set)
    due_offset: int | None = None  # days from today to the reply deadline (cases under way)
    holdouts: set[int] = field(default_factory=set)  # raters who have not rated yet
    number: int | None = None
    primary: Spec | None = None
    companions: list[Spec] = field(default_factory=list)
    extra_co: str = ""  # a co-handler a persona needs
    cosigner_role: str = ""  # how the demo deputy co-signs it (persona)
    tl: Timeline | None = None

    @property
    def rehandled(self) -> bool:
        return "rehandled" in self.flags

    def timeline(self) -> Timeline:
        return need(self.tl)


K = TypeVar("K")


@dataclass(frozen=True)
class Persona:
    """A proposal the demo logins need: their own, or one in the demo handler's or expert's queue."""

    year: int
    chamber: str
    state: Status
    proposer: str = ""  # "deputy" / "member"; empty: a random deputy of the chamber
    lead: str = ""  # choose an original with this lead bureau
    co: str = ""  # add this bureau as a co-handler (the lead then is another one)
    categories: tuple[str, ...] = ()
    due_offset: int | None = None
    flags: frozenset[str] = frozenset()
    cosigner: str = ""  # "deputy": the demo deputy co-signs ("invited" for a draft: not answered yet)


NPC, CPPCC = Chamber.NPC, Chamber.CPPCC
HEALTH = ("医疗卫生", "养老", "民生保障")
PERSONAS = [
    # 王建国 (deputy): his own, in varied states
    Persona(2027, NPC, S.DRAFT, "deputy", lead=TRANSPORT),
    Persona(2027, NPC, S.SUBMITTED, "deputy"),
    Persona(2026, NPC, S.HANDLING, "deputy", lead=TRANSPORT, due_offset=4),
    Persona(2026, NPC, S.REPLY_REVIEW, "deputy"),
    Persona(2026, NPC, S.REPLIED, "deputy", flags=frozenset({"proposer_holds"})),
    Persona(2026, NPC, S.FOLLOW_UP, "deputy"),
    Persona(2025, NPC, S.CLOSED, "deputy", flags=frozenset({"published"})),
    Persona(2024, NPC, S.CLOSED, "deputy", flags=frozenset({"rehandled"})),
    Persona(2023, NPC, S.CLOSED, "deputy"),
    # ... and others' that he co-signs
    Persona(2027, NPC, S.DRAFT, cosigner="invited"),
    Persona(2026, NPC, S.REPLIED, cosigner="deputy", flags=frozenset({"cosigner_holds"})),
    Persona(2025, NPC, S.CLOSED, cosigner="deputy"),
    # 李雪梅 (member)
    Persona(2027, CPPCC, S.DRAFT, "member", categories=HEALTH),
    Persona(2026, CPPCC, S.REGISTERED, "member", categories=HEALTH),
    Persona(2026, CPPCC, S.ASSIGNED, "member", categories=HEALTH),
    Persona(2026, CPPCC, S.HANDLING, "member", categories=HEALTH, due_offset=-9),
    Persona(2026, CPPCC, S.REPLIED, "member", categories=HEALTH, flags=frozenset({"proposer_holds"})),
    Persona(2026, CPPCC, S.REHANDLING, "member", categories=HEALTH),
    Persona(2025, CPPCC, S.FOLLOW_UP, "member", categories=HEALTH),
    Persona(2024, CPPCC, S.CLOSED, "member", categories=HEALTH),
    Persona(2022, CPPCC, S.CLOSED, "member", categories=HEALTH),
    # 刘芳 (handler, 市交通委): a work queue, some overdue, some due soon
    Persona(2026, NPC, S.ASSIGNED, lead=TRANSPORT, flags=frozenset({"fresh"})),
    Persona(2026, CPPCC, S.ASSIGNED, lead=TRANSPORT),
    Persona(2026, NPC, S.ASSIGNED, lead=TRANSPORT, flags=frozenset({"returned"})),
    Persona(2026, NPC, S.HANDLING, lead=TRANSPORT, due_offset=-21),
    Persona(2026, CPPCC, S.HANDLING, lead=TRANSPORT, due_offset=-6, flags=frozenset({"extension_pending"})),
    Persona(2026, NPC, S.HANDLING, lead=TRANSPORT, due_offset=2),
    Persona(2026, CPPCC, S.HANDLING, lead=TRANSPORT, due_offset=7),
    Persona(2026, NPC, S.HANDLING, lead=TRANSPORT, due_offset=45),
    Persona(2026, NPC, S.REHANDLING, lead=TRANSPORT),
    Persona(2026, NPC, S.FOLLOW_UP, lead=TRANSPORT),
    Persona(2026, CPPCC, S.FOLLOW_UP, lead=TRANSPORT),
    Persona(2026, NPC, S.ASSIGNED, co=TRANSPORT, flags=frozenset({"co_pending"})),
    Persona(2026, CPPCC, S.HANDLING, co=TRANSPORT, due_offset=30, flags=frozenset({"opinion_pending"})),
    Persona(2026, NPC, S.REPLY_REVIEW, co=TRANSPORT, flags=frozenset({"signoff_pending"})),
    # 陈志远 (expert, 市教委): his bureau's proposals
    Persona(2026, NPC, S.ASSIGNED, lead=EDUCATION),
    Persona(2026, CPPCC, S.HANDLING, lead=EDUCATION, due_offset=-4),
    Persona(2026, NPC, S.HANDLING, lead=EDUCATION, due_offset=3),
    Persona(2026, NPC, S.HANDLING, lead=EDUCATION, due_offset=33),
    Persona(2026, CPPCC, S.REPLY_REVIEW, lead=EDUCATION),
    Persona(2026, NPC, S.REPLIED, lead=EDUCATION),
]


def _largest_remainder(total: int, weights: dict[K, int], *, at_least_one: bool = False) -> dict[K, int]:
    keys = list(weights)
    floor = {key: 0 for key in keys}
    if at_least_one and total >= len(keys):
        floor = {key: 1 for key in keys}
    rest = total - sum(floor.values())
    scale = sum(weights.values())
    exact = {key: rest * weights[key] / scale for key in keys}
    counts = {key: floor[key] + int(exact[key]) for key in keys}
    leftover = total - sum(counts.values())
    for key in sorted(keys, key=lambda k: (exact[k] - int(exact[k]), -keys.index(k)), reverse=True)[:leftover]:
        counts[key] += 1
    return counts


def state_quotas(count: int) -> list[tuple[int, str, Status]]:
    """(year, chamber, final state) for ``count`` proposals, every state of the latest and open year at least once."""
    cells = {(year, str(chamber)): YEAR_WEIGHT[year] * CHAMBER_WEIGHT[chamber] for year in YEARS for chamber in Chamber}
    quotas: list[tuple[int, str, Status]] = []
    for (year, chamber), size in _largest_remainder(max(count, 0), cells).items():
        table = {
            OPEN_YEAR: OPEN_STATES,
            LATEST_YEAR: LATEST_STATES,
            LATEST_YEAR - 1: LAST_YEAR_STATES,
        }.get(year, PAST_STATES)
        spread = year in (OPEN_YEAR, LATEST_YEAR)
        for state, n in _largest_remainder(size, table, at_least_one=spread).items():
            quotas += [(year, chamber, state)] * n
    return quotas


class Planner:
    """Turns a count into specs with timelines. Deterministic for a given seed, cast, sessions and now."""

    def __init__(self, *, cast: Cast, sessions: dict[tuple[str, int], SessionRef], clock: Clock, seed: int) -> None:
        self.cast, self.sessions, self.clock, self.seed = cast, sessions, clock, seed
        self.rng = random.Random(seed)  # noqa: S311 (demo data: deterministic, not cryptographic)
        self.originals = originals()
        self.specs: list[Spec] = []

    def plan(self, count: int) -> list[Spec]:
        personas = PERSONAS if count >= len(PERSONAS) else PERSONAS[:0]
        for persona in personas:
            self._add_persona(persona)
        merged: list[tuple[int, str]] = []
        for year, chamber, state in state_quotas(count - len(personas)):
            if state == S.MERGED:
                merged.append((year, chamber))
            else:
                self._add(year, chamber, state, self._random_original(state))
        primaries: dict[SessionRef, list[Spec]] = {}
        for spec in self.specs:
            if spec.state in MERGEABLE and spec.timeline().register is not None:
                primaries.setdefault(spec.session, []).append(spec)
        for year, chamber in merged:
            self._add_companion(primaries.get(self.sessions[(chamber, year)], []))
        self._number()
        return self.specs

    # --- who and what -------------------------------------------------------------------------

    def _spec_rng(self, key: int) -> random.Random:
        return random.Random(f"{self.seed}:{key}")  # noqa: S311 (demo data)

    def _random_original(self, state: Status, choose: Callable[[Original], bool] | None = None) -> Original:
        pool = [o for o in self.originals if choose is None or choose(o)]
        if state == S.FOLLOW_UP:
            pool = [o for o in pool if o.reply_class in FOLLOW_UP_CLASSES] or pool
        return self.rng.choice(pool or list(self.originals))

    def _add(
        self,
        year: int,
        chamber: str,
        state: Status,
        original: Original,
        *,
        proposer: Person | None = None,
        flags: frozenset[str] = frozenset(),
        due_offset: int | None = None,
        extra_co: str = "",
        cosigner_role: str = "",
    ) -> Spec:
        spec = Spec(
            key=len(self.specs),
            session=self.sessions[(chamber, year)],
            state=state,
            original=original,
            proposer=proposer or self.rng.choice(self.cast.deputies[chamber]),
            flags=set(flags),
            due_offset=due_offset,
            extra_co=extra_co,
            cosigner_role=cosigner_role,
        )
        rng = self._spec_rng(spec.key)
        self._choose_people(spec, rng)
        self._choose_handling(spec, rng)
        spec.tl = timeline_of(spec, self.clock, rng)
        self.specs.append(spec)
        return spec

    def _add_persona(self, persona: Persona) -> None:
        def fits(original: Original) -> bool:
            if persona.lead and original.lead_bureau != persona.lead:
                return False
            if persona.co and (original.lead_bureau == persona.co or persona.co in original.co_bureaus):
                return False
            return not persona.categories or original.category in persona.categories

        self._add(
            persona.year,
            persona.chamber,
            persona.state,
            self._random_original(persona.state, fits),
            proposer={"deputy": self.cast.demo_deputy, "member": self.cast.demo_member}.get(persona.proposer),
            flags=persona.flags | {"persona"},
            due_offset=persona.due_offset,
            extra_co=persona.co,
            cosigner_role=persona.cosigner,
        )

    def _choose_people(self, spec: Spec, rng: random.Random) -> None:
        others = [p for p in self.cast.deputies[spec.session.chamber] if p != spec.proposer]
        if rng.random() < 0.3:
            chosen = rng.sample(others, rng.choice((1, 1, 2, 3)))
            for person in chosen:
                if spec.state == S.DRAFT and rng.random() < 0.5:
                    spec.invited.append(person)
                elif rng.random() < 0.1:
                    spec.declined.append(person)
                else:
                    spec.cosigners.append(person)
        demo = self.cast.demo_deputy
        if spec.cosigner_role == "invited":
            spec.invited.append(demo)
        elif spec.cosigner_role == "deputy":
            spec.cosigners.append(demo)
        if "proposer_holds" in spec.flags:
            spec.holdouts.add(spec.proposer.id)
        if "cosigner_holds" in spec.flags:
            spec.holdouts.add(demo.id)

    def _choose_handling(self, spec: Spec, rng: random.Random) -> None:
        original, bureaus = spec.original, self.cast.bureaus
        spec.lead = original.lead_bureau
        spec.co = tuple(name for name in original.co_bureaus if name in bureaus and name != spec.lead)
        if spec.extra_co and spec.extra_co not in spec.co:
            spec.co = (spec.extra_co, *spec.co[:1])
        state, flags = spec.state, spec.flags
        if state in REACHED_BUREAU and "persona" not in flags:
            if spec.co and rng.random() < 0.04:
                spec.separate = True
            elif rng.random() < 0.04:
                flags.add("returned")
        if "returned" in flags:
            spec.wrong_lead = rng.choice([b for b in bureaus if b != spec.lead and b not in spec.co])
        self._choose_classes(spec, rng)
        self._choose_course(spec, rng)

    def _choose_classes(self, spec: Spec, rng: random.Random) -> None:
        spec.drafted_class = spec.final_class = spec.original.reply_class
        if spec.state in REPLIED_STATES and rng.random() < 0.04:
            spec.final_class = {"A": "B", "B": "C", "C": "B", "D": "C"}[spec.drafted_class]
        if spec.state == S.FOLLOW_UP and spec.final_class not in FOLLOW_UP_CLASSES:
            spec.drafted_class = spec.final_class = "B"

    def _choose_course(self, spec: Spec, rng: random.Random) -> None:
        """What goes unusually for this proposal (only what its final state allows)."""
        state, flags, year = spec.state, spec.flags, spec.session.year
        if state in REPLIED_STATES | {S.REPLY_REVIEW} and not flags & {"persona"}:
            roll = rng.random()
            if roll < 0.05:
                flags.add("late")
            elif roll < 0.08:
                flags.add("extended")
            if rng.random() < 0.04:
                flags.add("reply_returned")
        if state == S.REHANDLING or (state in (S.CLOSED, S.FOLLOW_UP) and not spec.separate and rng.random() < 0.03):
            flags.add("rehandled")
        elif state in (S.CLOSED, S.FOLLOW_UP) and rng.random() < 0.02:
            flags.add("dismissed")
        if spec.rehandled:
            spec.second_class = "B" if state == S.FOLLOW_UP else rng.choice(("A", "A", "B"))
        final = spec.second_class or spec.final_class
        if state == S.CLOSED:
            if not spec.rehandled and "dismissed" not in flags and rng.random() < 0.05:
                flags.add("office_close")
            elif final in FOLLOW_UP_CLASSES:
                flags.add("follow_up_reply" if rng.random() < 0.75 else "follow_up_closed")
        if state == S.REPLIED and "persona" not in flags and rng.random() < 0.15:
            flags.add("dissatisfaction_pending")
        if state == S.HANDLING and spec.due_offset is None:
            spec.due_offset = random_due_offset(rng)
        if state == S.HANDLING and spec.due_offset is not None and spec.due_offset < 0 and rng.random() < 0.3:
            flags.add("extension_pending")
        consent = "persona" in flags or rng.random() < 0.9
        if not consent:
            flags.add("no_consent")
        share = 0.65 if year < LATEST_YEAR else 0.4
        if consent and state in (S.CLOSED, S.FOLLOW_UP, S.REPLIED) and rng.random() < share:
            flags.add("published")
        if "no_consent" in flags:
            flags.discard("published")

    def _add_companion(self, primaries: list[Spec]) -> None:
        """A proposal merged (并案) into a registered one of the same session, on the same matter."""
        if not primaries:
            return
        primary = self.rng.choice(primaries)
        spec = Spec(
            key=len(self.specs),
            session=primary.session,
            state=S.MERGED,
            original=primary.original,
            proposer=self.rng.choice([p for p in self.cast.deputies[primary.session.chamber] if p != primary.proposer]),
            primary=primary,
        )
        rng = self._spec_rng(spec.key)
        self._choose_people(spec, rng)
        spec.cosigners = [p for p in spec.cosigners if p != primary.proposer]
        spec.tl = merged_timeline(primary.timeline(), self.clock, rng, registered=rng.random() < 0.2)
        primary.companions.append(spec)
        self.specs.append(spec)

    def _number(self) -> None:
        """Numbers in the order of registration, per session, from 1."""
        by_session: dict[int, list[Spec]] = {}
        for spec in self.specs:
            if spec.timeline().register is not None:
                by_session.setdefault(spec.session.id, []).append(spec)
        for specs in by_session.values():
            specs.sort(key=lambda s: (s.timeline().register, s.key))
            for number, spec in enumerate(specs, start=1):
                spec.number = number
