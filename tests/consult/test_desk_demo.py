"""The demo's past consultations: the 60 written dialogues held over 2026, numbered threads, idempotent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from chat.models import Message, MessageKind, ReadMarker
from consult.demo.city import seed_people
from consult.demo.desk import DEFAULT_COUNT, OUTCOMES, ConsultationSeedReport, load_dialogues, seed_consultations
from consult.models import Consultation, ConsultationStatus, ConsultationTransfer, Outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[ConsultationSeedReport]:
    """The demo city with its default past consultations, built once for this module and rolled back after.

    Seeding the people takes seconds; every test here runs inside this transaction (its own ``db``
    transaction becomes a savepoint), so each still starts from the same seeded city.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        seed_people()
        yield seed_consultations()
        transaction.set_rollback(True)


@pytest.fixture
def city(seeded: ConsultationSeedReport, db: None) -> ConsultationSeedReport:
    return seeded


def snapshot() -> dict[str, object]:
    return {
        "consultations": sorted(
            Consultation.objects.values_list("deputy__username", "expert__user__username", "topic", "created_at")
        ),
        "messages": Message.objects.count(),
        "transfers": ConsultationTransfer.objects.count(),
        "markers": ReadMarker.objects.count(),
    }


def test_the_fixture_holds_60_dialogues_with_known_outcomes() -> None:
    dialogues = load_dialogues()

    assert len(dialogues) == 60
    assert {d.outcome for d in dialogues} == set(OUTCOMES.values())
    assert all(speaker in {"deputy", "expert"} for d in dialogues for speaker, _text in d.lines)


def test_demo_consultations_are_past_ended_and_answered_by_the_right_bureau(city: ConsultationSeedReport) -> None:
    assert city.created == DEFAULT_COUNT == Consultation.objects.count()
    assert not Consultation.objects.exclude(status=ConsultationStatus.ENDED).exists()
    assert not Consultation.objects.exclude(expert__bureau=F("bureau")).exists()
    first, last = Consultation.objects.aggregate(first=Min("created_at"), last=Max("created_at")).values()
    assert first >= datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert last < timezone.now()
    assert len(set(Consultation.objects.values_list("deputy", flat=True))) > 50, "many deputies consulted"
    assert set(Consultation.objects.values_list("topic", flat=True)) == {d.topic for d in load_dialogues()}


def test_outcomes_are_mapped_from_the_dialogues(city: ConsultationSeedReport) -> None:
    by_topic = {d.topic: d.outcome for d in load_dialogues()}

    for topic, outcome, note in Consultation.objects.values_list("topic", "outcome", "outcome_note"):
        assert outcome == by_topic[topic]
        assert bool(note) == (outcome != Outcome.ANSWERED), "follow-ups and proposals say what comes next"
    assert set(Consultation.objects.values_list("outcome", flat=True)) == {"answered", "follow_up", "proposal"}


def test_ratings_are_mostly_four_or_five(city: ConsultationSeedReport) -> None:
    ratings = list(Consultation.objects.values_list("rating", flat=True))
    rated = [r for r in ratings if r is not None]
    assert all(1 <= r <= 5 for r in rated)
    assert sum(r >= 4 for r in rated) >= 0.8 * len(ratings)


def test_every_thread_is_numbered_without_gaps_from_start_to_outcome(city: ConsultationSeedReport) -> None:
    numbers = Message.objects.values("consultation").annotate(n=Count("pk"), low=Min("seq"), high=Max("seq"))
    last_seq = dict(Consultation.objects.values_list("pk", "last_seq"))
    assert len(numbers) == DEFAULT_COUNT
    for row in numbers:
        assert (row["low"], row["high"], row["n"]) == (1, last_seq[row["consultation"]], last_seq[row["consultation"]])
    for consultation in Consultation.objects.all()[:20]:
        thread = list(consultation.messages.order_by("seq"))
        kinds = [m.kind for m in thread]
        assert kinds[:2] == [MessageKind.SYSTEM, MessageKind.SYSTEM], "started, then the expert joined"
        assert kinds[-2:] == [MessageKind.SYSTEM, MessageKind.SYSTEM], "ended, then the outcome"
        assert [m.created_at for m in thread] == sorted(m.created_at for m in thread)
        assert thread[0].created_at == consultation.created_at
        assert consultation.created_at < consultation.assigned_at < consultation.ended_at
        senders = {m.sender_id for m in thread if m.kind == MessageKind.TEXT}
        assert consultation.deputy_id in senders


def test_transferred_threads_name_both_experts(city: ConsultationSeedReport) -> None:
    transfers = list(ConsultationTransfer.objects.select_related("consultation", "from_expert", "to_expert"))
    assert transfers, "a few consultations were handed to a colleague"
    for transfer in transfers:
        assert transfer.consultation.expert == transfer.to_expert != transfer.from_expert
        assert transfer.to_bureau_id == transfer.consultation.bureau_id
        # started, joined, transferred, the colleague joined, ended, the outcome
        assert transfer.consultation.messages.filter(kind=MessageKind.SYSTEM).count() == 6


def test_the_demo_logins_have_their_own_consultations(city: ConsultationSeedReport) -> None:
    mine = Consultation.objects.filter(deputy__username="deputy")
    answered = Consultation.objects.filter(expert__user__username="expert")
    assert mine.count() == 5
    assert answered.count() == 6
    assert set(answered.values_list("bureau__name", flat=True)) == {"市教委"}
    assert mine.filter(expert__user__username="expert").exists(), "王建国 asked 陈志远 about 学区划分"
    assert {"answered", "follow_up", "proposal"} <= set(mine.values_list("outcome", flat=True))


def test_seeding_again_changes_nothing(city: ConsultationSeedReport) -> None:
    first = snapshot()

    report = seed_consultations()

    assert report.skipped
    assert report.created == 0
    assert snapshot() == first


def test_seeding_is_deterministic(city: ConsultationSeedReport) -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
    Consultation.objects.all().delete()
    seed_consultations(40, now=now)
    first = snapshot()
    Consultation.objects.all().delete()

    seed_consultations(40, now=now)

    assert snapshot()["consultations"] == first["consultations"]
    assert Consultation.objects.count() == 40


def test_seed_demo_takes_a_number_of_consultations(city: ConsultationSeedReport) -> None:
    Consultation.objects.all().delete()

    call_command("seed_demo", proposals=0, consultations=30, verbosity=0)
    call_command("seed_demo", proposals=0, consultations=30, verbosity=0)

    assert Consultation.objects.count() == 30


def test_seed_demo_can_leave_consultations_out(city: ConsultationSeedReport) -> None:
    Consultation.objects.all().delete()

    call_command("seed_demo", proposals=0, consultations=0, verbosity=0)

    assert not Consultation.objects.exists()
