"""Past consultations of the demo city 海滨市: the 60 written dialogues, each held a few times over 2026.

- ``seed_consultations(count)``: ``count`` ended consultations (200 by default: every dialogue of
  ``fixtures/demo/consultations.jsonl`` about three times, with other deputies on other days), each with the
  thread the services would have written — numbered 1, 2, 3 … without gaps: the system line that started it,
  the expert joining, the dialogue, sometimes a transfer to a colleague, the end and the outcome — its
  outcome (当场答复 → answered, 需跟进 → follow_up, 转为建议 → proposal), mostly a 4 or 5 rating, and read
  markers. The demo logins have theirs: 王建国 (``deputy``) asked five of them, 陈志远 (``expert``, 市教委)
  answered his bureau's first two rounds.
- Deterministic for a seed, written with ``bulk_create`` in one transaction, and idempotent: once any
  consultation exists in the demo's past (2026 up to today), it does nothing.

Run after ``consult.demo.city.seed_people``; ``manage.py seed_demo`` calls it after the proposals.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone, translation

from chat.models import Message, MessageKind, ReadMarker
from consult.demo.city import FIXTURES
from consult.desk import texts
from consult.kernel.texts import Said, label
from consult.models import (
    Bureau,
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ConsultationTransfer,
    DeputyProfile,
    ExpertProfile,
    Outcome,
    User,
)
from consult.people.roles import Role

__all__ = ["DEFAULT_COUNT", "ConsultationSeedReport", "load_dialogues", "seed_consultations"]

SEED = 2026
DEFAULT_COUNT = 200
YEAR = 2026
SESSION_DAYS = (date(YEAR, 1, 11), date(YEAR, 1, 18))  # 两会: most consultations fall in these days
PERIOD_NAME = f"{YEAR}年两会在线咨询"
OUTCOMES = {"当场答复": Outcome.ANSWERED, "需跟进": Outcome.FOLLOW_UP, "转为建议": Outcome.PROPOSAL}
RATINGS = (5,) * 58 + (4,) * 28 + (3,) * 8 + (None,) * 6  # mostly 4–5; a few never rated
COMMENTS = (
    "解答很专业，谢谢！",
    "回复及时，政策讲得很清楚。",
    "希望承诺的事项尽快落实。",
    "专家很耐心，问题基本清楚了。",
    "答复具体，便于向群众解释。",
)
FOLLOW_UP_NOTE = "会后书面答复代表：{promise}"
PROPOSAL_NOTE = "建议代表就此提出书面建议，由我委配合办理。"
TRANSFER_NOTE = "此事由我委{department}具体负责，转请{name}同志解答"

# The demo logins' own consultations: (dialogue index, variant).
DEMO_DEPUTY = {(0, 0), (2, 0), (8, 0), (44, 0), (48, 0)}  # 王建国, 东湖区社区卫生服务中心主任
DEMO_MEMBER = {(9, 0), (47, 0)}  # 李雪梅, 医药卫生界
DEMO_EXPERT_BUREAU, DEMO_EXPERT_VARIANTS = "市教委", 2  # 陈志远 answers 市教委's first two rounds


@dataclass(frozen=True)
class Dialogue:
    bureau: str
    topic: str
    lines: tuple[tuple[str, str], ...]  # (deputy | expert, text)
    outcome: str


@dataclass(frozen=True)
class ConsultationSeedReport:
    created: int
    messages: int = 0
    transfers: int = 0
    seconds: float = 0.0
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "consultations already there"
        return (
            f"{self.created} past consultations with {self.messages} messages and {self.transfers} transfers "
            f"in {self.seconds:.1f} s"
        )


def load_dialogues() -> list[Dialogue]:
    with open(FIXTURES / "consultations.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [
        Dialogue(
            bureau=row["bureau"],
            topic=row["topic"],
            lines=tuple((m["from"], m["text"]) for m in row["messages"]),
            outcome=OUTCOMES[row["outcome"]],
        )
        for row in rows
    ]


@contextmanager
def _given_timestamps() -> Iterator[None]:
    """Let ``auto_now_add`` keep the moments the demo gives messages and transfers (``bulk_create`` would not)."""
    switched = [Message._meta.get_field("created_at"), ConsultationTransfer._meta.get_field("at")]
    dated = [f for f in switched if isinstance(f, models.DateTimeField)]
    try:
        for f in dated:
            f.auto_now_add = False
        yield
    finally:
        for f in dated:
            f.auto_now_add = True


# --- who and when ----------------------------------------------------------------------------


@dataclass
class _Cast:
    deputies: list[User]
    demo_deputy: User | None
    demo_member: User | None
    experts: dict[str, list[ExpertProfile]]  # bureau name -> its experts
    bureaus: dict[str, Bureau]
    demo_expert: ExpertProfile | None
    staff: User | None

    @classmethod
    def load(cls) -> _Cast:
        logins = {u.username: u for u in User.objects.filter(username__in=["deputy", "member", "staff"])}
        deputies = [
            p.user
            for p in DeputyProfile.objects.filter(user__is_active=True)
            .exclude(user__username__in=["deputy", "member"])
            .select_related("user")
            .order_by("user__username")
        ]
        experts: dict[str, list[ExpertProfile]] = {}
        for expert in ExpertProfile.objects.filter(user__is_active=True).select_related("user", "bureau", "department"):
            experts.setdefault(expert.bureau.name, []).append(expert)
        for members in experts.values():
            members.sort(key=lambda e: e.user.username)
        demo_expert = next((e for e in experts.get(DEMO_EXPERT_BUREAU, []) if e.user.username == "expert"), None)
        return cls(
            deputies=deputies,
            demo_deputy=logins.get("deputy"),
            demo_member=logins.get("member"),
            experts=experts,
            bureaus={b.name: b for b in Bureau.objects.filter(is_active=True)},
            demo_expert=demo_expert,
            staff=next((u for u in logins.values() if u.username == "staff" and u.role == Role.STAFF), None),
        )

    def deputy_for(self, rng: random.Random, key: tuple[int, int]) -> User:
        if key in DEMO_DEPUTY and self.demo_deputy is not None:
            return self.demo_deputy
        if key in DEMO_MEMBER and self.demo_member is not None:
            return self.demo_member
        return rng.choice(self.deputies)

    def expert_for(self, rng: random.Random, bureau: str, variant: int) -> ExpertProfile:
        demo = self.demo_expert
        if demo is not None and bureau == DEMO_EXPERT_BUREAU and variant < DEMO_EXPERT_VARIANTS:
            return demo
        others = [e for e in self.experts[bureau] if e != demo] or self.experts[bureau]
        return rng.choice(others)


class _Clock:
    """Moments in 2026 before today, in office hours (Asia/Shanghai): many in the 两会 days, the rest on weekdays."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.tz = ZoneInfo(str(timezone.get_default_timezone()))
        today = timezone.localtime(now, self.tz).date()
        self.last_day = min(date(YEAR, 12, 31), today - timedelta(days=1))
        self.weekdays = [
            day
            for day in (date(YEAR, 2, 1) + timedelta(days=n) for n in range(366))
            if day <= self.last_day and day.year == YEAR and day.weekday() < 5
        ]
        first, last = SESSION_DAYS
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        self.session = [day for day in days if day <= self.last_day]

    def start(self) -> datetime:
        session = self.session
        pool = session if session and (not self.weekdays or self.rng.random() < 0.4) else self.weekdays
        day = self.rng.choice(pool or [self.last_day])
        minute = self.rng.randint(9 * 60, 16 * 60 + 30)
        return datetime.combine(day, time(minute // 60, minute % 60, self.rng.randint(0, 59)), self.tz)


def window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The demo's past: from the start of 2026 up to today's midnight (or the end of 2026)."""
    tz = ZoneInfo(str(timezone.get_default_timezone()))
    today = timezone.localtime(now or timezone.now(), tz).date()
    end = min(date(YEAR + 1, 1, 1), today)
    return datetime.combine(date(YEAR, 1, 1), time(0), tz), datetime.combine(end, time(0), tz)


# --- one consultation's rows ---------------------------------------------------------------------


@dataclass
class _Rows:
    consultations: list[Consultation] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    transfers: list[ConsultationTransfer] = field(default_factory=list)
    markers: list[ReadMarker] = field(default_factory=list)


class _Thread:
    """The numbered messages of one consultation, at moments that move forward."""

    def __init__(self, consultation: Consultation, rows: _Rows, key: str) -> None:
        self.consultation, self.rows, self.key = consultation, rows, key
        self.seq = 0

    def add(self, at: datetime, body: str | Said, sender: User | None = None) -> None:
        self.seq += 1
        said = body if isinstance(body, Said) else None
        kind = MessageKind.TEXT if sender is not None else MessageKind.SYSTEM
        client_id = f"demo-{self.key}-{self.seq:03d}" if sender is not None else ""
        self.rows.messages.append(
            Message(
                consultation=self.consultation,
                seq=self.seq,
                sender=sender,
                client_id=client_id,
                kind=kind,
                body=said.in_default_language() if said else str(body),
                code=said.code if said else "",
                params=said.params if said else {},
                created_at=at,
            )
        )


def _joined(expert: ExpertProfile) -> Said:
    return texts.JOINED(name=expert.user.full_name, bureau=expert.bureau.name)


def _tell(
    dialogue: Dialogue,
    key: tuple[int, int],
    cast: _Cast,
    clock: _Clock,
    rng: random.Random,
    period: ConsultationPeriod | None,
    rows: _Rows,
) -> None:
    """Write one consultation as the services would have: start, join, talk, (transfer), end, outcome, rating."""
    deputy = cast.deputy_for(rng, key)
    expert = cast.expert_for(rng, dialogue.bureau, key[1])
    bureau = cast.bureaus[dialogue.bureau]
    started = clock.start()
    in_period = period is not None and period.starts_at <= started < period.ends_at
    consultation = Consultation(
        deputy=deputy,
        bureau=bureau,
        expert=expert,
        topic=dialogue.topic,
        period=period if in_period else None,
        status=ConsultationStatus.ENDED,
        created_at=started,
    )
    rows.consultations.append(consultation)
    thread = _Thread(consultation, rows, f"{key[0]:02d}{key[1]:02d}")
    thread.add(
        started,
        texts.STARTED(name=deputy.full_name, bureau=bureau.name, topic=dialogue.topic),
    )
    moment = started + timedelta(seconds=rng.randint(15, 420))
    consultation.assigned_at = moment
    colleagues = [e for e in cast.experts[dialogue.bureau] if e != expert and e != cast.demo_expert]
    demo_pair = key in DEMO_DEPUTY or expert == cast.demo_expert  # the demo logins' threads stay simple
    transfer_to = rng.choice(colleagues) if colleagues and not demo_pair and rng.random() < 0.07 else None
    first = expert
    thread.add(moment, _joined(expert))
    for index, (speaker, text) in enumerate(dialogue.lines):
        moment += timedelta(seconds=rng.randint(20, 90) + int(len(text) * rng.uniform(1.0, 2.5)))
        thread.add(moment, text, deputy if speaker == "deputy" else expert.user)
        if transfer_to is not None and index == 0:
            moment += timedelta(seconds=rng.randint(30, 120))
            expert = _transfer(thread, rows, first, transfer_to, moment)
            moment += timedelta(seconds=rng.randint(30, 240))
            thread.add(moment, _joined(expert))
    consultation.expert = expert
    _finish(thread, dialogue, deputy, expert, moment, rng)
    for reader in (deputy, expert.user):
        rows.markers.append(ReadMarker(consultation=consultation, user=reader, last_read_seq=thread.seq))


def _transfer(
    thread: _Thread, rows: _Rows, source: ExpertProfile, target: ExpertProfile, at: datetime
) -> ExpertProfile:
    department = target.department.name if target.department else target.bureau.name
    note = TRANSFER_NOTE.format(department=department, name=target.user.full_name)
    rows.transfers.append(
        ConsultationTransfer(
            consultation=thread.consultation,
            from_expert=source,
            to_bureau=target.bureau,
            to_expert=target,
            note=note,
            at=at,
        )
    )
    thread.add(
        at,
        texts.TRANSFERRED(name=source.user.full_name, who=target.user.full_name, note=note),
    )
    return target


def _finish(
    thread: _Thread, dialogue: Dialogue, deputy: User, expert: ExpertProfile, moment: datetime, rng: random.Random
) -> None:
    consultation = thread.consultation
    ended = moment + timedelta(seconds=rng.randint(30, 180))
    ender = deputy if rng.random() < 0.7 else expert.user
    consultation.ended_at, consultation.ended_by = ended, ender
    thread.add(ended, texts.ENDED(name=ender.full_name))
    consultation.outcome = dialogue.outcome
    if dialogue.outcome == Outcome.FOLLOW_UP:
        promise = next(text for speaker, text in reversed(dialogue.lines) if speaker == "expert")
        consultation.outcome_note = FOLLOW_UP_NOTE.format(promise=promise)
    elif dialogue.outcome == Outcome.PROPOSAL:
        consultation.outcome_note = PROPOSAL_NOTE
    outcome = texts.OUTCOME(outcome=label("desk.outcome", dialogue.outcome))
    thread.add(ended + timedelta(seconds=rng.randint(5, 90)), outcome)
    consultation.rating = rng.choice(RATINGS)
    if consultation.rating is not None and rng.random() < 0.35:
        consultation.rating_comment = rng.choice(COMMENTS)
    consultation.last_seq = thread.seq


def _period(cast: _Cast) -> ConsultationPeriod | None:
    """The 2026 session's duty period, with every bureau on duty (made once)."""
    if cast.staff is None:
        return None
    tz = ZoneInfo(str(timezone.get_default_timezone()))
    first, last = SESSION_DAYS
    period, created = ConsultationPeriod.objects.get_or_create(
        name=PERIOD_NAME,
        defaults={
            "starts_at": datetime.combine(first, time(8, 30), tz),
            "ends_at": datetime.combine(last, time(18, 0), tz),
            "created_by": cast.staff,
        },
    )
    if created:
        period.bureaus.set(cast.bureaus.values())
    return period


# --- seeding ---------------------------------------------------------------------------------------


@transaction.atomic
def seed_consultations(
    count: int = DEFAULT_COUNT, *, seed: int = SEED, now: datetime | None = None
) -> ConsultationSeedReport:
    """Write ``count`` past consultations once. Needs ``seed_people`` first."""
    started = perf_counter()
    since, until = window(now)
    if count <= 0 or Consultation.objects.filter(created_at__gte=since, created_at__lt=until).exists():
        return ConsultationSeedReport(created=0, skipped=count > 0)
    cast = _Cast.load()
    if not cast.deputies or not cast.experts:
        raise RuntimeError("the demo people are missing: run consult.demo.city.seed_people() first")
    rng = random.Random(seed)  # noqa: S311 (demo data: deterministic, not cryptographic)
    clock = _Clock(rng, now or timezone.now())
    period = _period(cast)
    answerable = [(i, d) for i, d in enumerate(load_dialogues()) if d.bureau in cast.bureaus]
    dialogues = [(i, d) for i, d in answerable if cast.experts.get(d.bureau)]
    if not dialogues:
        return ConsultationSeedReport(created=0)
    rows = _Rows()
    with translation.override(settings.LANGUAGE_CODE):
        for n in range(count):
            index, dialogue = dialogues[n % len(dialogues)]
            _tell(dialogue, (index, n // len(dialogues)), cast, clock, rng, period, rows)
    with _given_timestamps():
        Consultation.objects.bulk_create(rows.consultations, batch_size=500)
        Message.objects.bulk_create(rows.messages, batch_size=1000)
        ConsultationTransfer.objects.bulk_create(rows.transfers, batch_size=500)
        ReadMarker.objects.bulk_create(rows.markers, batch_size=1000)
    return ConsultationSeedReport(
        created=len(rows.consultations),
        messages=len(rows.messages),
        transfers=len(rows.transfers),
        seconds=perf_counter() - started,
    )
