"""Every write of the consultation desk.

- ``open_period``: the office puts bureaus and experts on duty for a period.
- ``expert_connected`` / ``expert_disconnected`` / ``touch_presence`` / ``set_presence``: presence from live
  connections (the workbench's socket) and the expert's own choice (online / away).
- ``start_consultation``: a deputy asks a bureau (or names an expert, 点将); it is routed at once when an
  expert is free, otherwise it waits in the bureau's queue.
- ``route_bureau``: give queued consultations to online experts with free capacity, least-loaded and
  longest-idle first. Consultation rows are locked with SKIP LOCKED and presence rows with FOR UPDATE, so
  two experts (or two routing passes) never take the same consultation.
- ``transfer_consultation``, ``end_consultation``, ``record_outcome``, ``rate_consultation``.

Every change writes a system message into the thread (chat's writer, through ``consult.desk.providers``)
and publishes live events after commit: ``consultation.changed`` on topic ``consultation.<id>``,
``queue.changed`` on ``bureau.<id>``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consult.desk import providers, texts
from consult.desk.access import can_read
from consult.desk.live_events import (
    CONSULTATION_ASSIGNED,
    CONSULTATION_CHANGED,
    MY_CONSULTATION_CHANGED,
    PRESENCE_CHANGED,
    QUEUE_CHANGED,
)
from consult.desk.selectors import PRESENCE_TIMEOUT
from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.kernel.texts import Said, label
from consult.models import (
    Bureau,
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ConsultationTransfer,
    ExpertPresence,
    ExpertProfile,
    Outcome,
    PresenceStatus,
    User,
)
from consult.notifications.services import notify
from consult.people.roles import Role
from consult.people.selectors import is_office
from consult.realtime.catalogue import publish
from search.indexing import queue_change


def _now() -> datetime:
    return timezone.now()


def _expert_of(actor: User) -> ExpertProfile:
    profile: ExpertProfile | None = ExpertProfile.objects.filter(user=actor).select_related("user").first()
    if actor.role != Role.EXPERT or profile is None:
        raise NotAllowed(_("only bureau experts do this"))
    return profile


def _presence(expert: ExpertProfile) -> ExpertPresence:
    ExpertPresence.objects.get_or_create(expert=expert)
    return ExpertPresence.objects.select_for_update().get(expert=expert)


def _system(consultation: Consultation, said: Said) -> None:
    providers.post_system_message(consultation, said)


def _publish(consultation: Consultation, action: str) -> None:
    payload = {"action": action, "status": consultation.status, "expert": consultation.expert_id}
    publish(CONSULTATION_CHANGED, consultation.pk, payload)
    publish(MY_CONSULTATION_CHANGED, consultation.deputy_id, {"id": consultation.pk, **payload})
    publish(QUEUE_CHANGED, consultation.bureau_id, {"id": consultation.pk, "action": action})
    queue_change("consultation", consultation.pk)  # who may find its messages changed


# --- periods and presence ------------------------------------------------------------------------


@transaction.atomic
def open_period(
    *, actor: User, name: str, starts_at: datetime, ends_at: datetime, bureau_ids: list[int], expert_ids: list[int]
) -> ConsultationPeriod:
    if not is_office(actor):
        raise NotAllowed(_("only the congress or CPPCC office may do this"))
    if not name.strip():
        raise InvalidInput(_("this field is required"), field="name")
    if ends_at <= starts_at:
        raise InvalidInput(_("the period must end after it starts"), field="ends_at")
    if not bureau_ids:
        raise InvalidInput(_("put at least one bureau on duty"), field="bureau_ids")
    bureaus = list(Bureau.objects.filter(pk__in=bureau_ids, is_active=True))
    if len(bureaus) != len(set(bureau_ids)):  # a typo must not leave a bureau silently off duty
        raise InvalidInput(_("no such bureau"), field="bureau_ids")
    if ExpertProfile.objects.filter(pk__in=expert_ids).count() != len(set(expert_ids)):
        raise InvalidInput(_("no such expert"), field="expert_ids")
    period = ConsultationPeriod.objects.create(
        name=name.strip()[:100], starts_at=starts_at, ends_at=ends_at, created_by=actor
    )
    period.bureaus.set(bureaus)
    # Experts of bureaus not on duty are left out: the office picks bureaus first, then some of their experts.
    period.experts.set(ExpertProfile.objects.filter(pk__in=expert_ids, bureau_id__in=bureau_ids))
    return period


def current_period(now: datetime | None = None) -> ConsultationPeriod | None:
    moment = now or _now()
    return ConsultationPeriod.objects.filter(starts_at__lte=moment, ends_at__gt=moment).order_by("starts_at").first()


def _expert_or_none(actor: User) -> ExpertProfile | None:
    profile: ExpertProfile | None = ExpertProfile.objects.filter(user=actor, user__role=Role.EXPERT).first()
    return profile


# Presence changes are single statements on the presence table, outside any wider transaction: a socket
# closing must never hold locks on several tables at once (it happens at any moment, e.g. mid-flush).


def expert_connected(*, actor: User) -> ExpertPresence | None:
    """A live socket of an expert opened: present (online unless they chose away). Others: nothing to do."""
    expert = _expert_or_none(actor)
    if expert is None:
        return None
    ExpertPresence.objects.get_or_create(expert=expert)
    before = ExpertPresence.objects.get(expert=expert)
    ExpertPresence.objects.filter(expert=expert).update(
        connections=F("connections") + 1,
        last_seen=_now(),
        status=Case(When(status=PresenceStatus.OFFLINE, then=Value(PresenceStatus.ONLINE)), default=F("status")),
    )
    presence = ExpertPresence.objects.get(expert=expert)
    if not is_present(before):
        route_bureau(bureau_id=expert.bureau_id)
    publish(PRESENCE_CHANGED, expert.bureau_id, {"expert": expert.pk, "status": presence.status})
    return presence


def expert_disconnected(*, actor: User) -> ExpertPresence | None:
    """The chosen status (online / away) stays: with no connection the expert is simply not present."""
    expert = _expert_or_none(actor)
    if expert is None:
        return None
    ExpertPresence.objects.filter(expert=expert, connections__gt=0).update(connections=F("connections") - 1)
    presence = ExpertPresence.objects.filter(expert=expert).first()
    status = presence.status if presence is not None else PresenceStatus.OFFLINE
    publish(PRESENCE_CHANGED, expert.bureau_id, {"expert": expert.pk, "status": status})
    return presence


def touch_presence(*, actor: User) -> None:
    """A ping from a live connection: still here. An expert who had gone stale takes waiting work again."""
    presence = ExpertPresence.objects.filter(expert__user=actor).select_related("expert").first()
    if presence is None:
        return
    was_present = is_present(presence)
    ExpertPresence.objects.filter(pk=presence.pk).update(last_seen=_now())
    if not was_present and presence.connections > 0:
        route_bureau(bureau_id=presence.expert.bureau_id)


@transaction.atomic
def set_presence(*, actor: User, status: str) -> ExpertPresence:
    """The expert chooses online or away (暂离: keeps their consultations, takes no new ones)."""
    if status not in (PresenceStatus.ONLINE, PresenceStatus.AWAY):
        raise InvalidInput(_("choose online or away"), field="status")
    expert = _expert_of(actor)
    presence = _presence(expert)
    presence.status = status
    presence.save()
    if status == PresenceStatus.ONLINE:
        transaction.on_commit(lambda: route_bureau(bureau_id=expert.bureau_id))
    publish(PRESENCE_CHANGED, expert.bureau_id, {"expert": expert.pk, "status": status})
    return presence


def is_present(presence: ExpertPresence, now: datetime | None = None) -> bool:
    moment = now or _now()
    return (
        presence.connections > 0 and presence.last_seen is not None and presence.last_seen > moment - PRESENCE_TIMEOUT
    )


# --- starting and routing ------------------------------------------------------------------------


@transaction.atomic
def start_consultation(
    *, actor: User, bureau_id: int, topic: str, expert_id: int | None = None, proposal_id: int | None = None
) -> Consultation:
    if actor.role != Role.DEPUTY:
        raise NotAllowed(_("only deputies and members start consultations"))
    topic = topic.strip()
    if not topic:
        raise InvalidInput(_("say what you want to ask about"), field="topic")
    if len(topic) > 200:
        raise InvalidInput(_("at most %(n)d characters") % {"n": 200}, field="topic")
    bureau = Bureau.objects.filter(pk=bureau_id, is_active=True).first()
    if bureau is None:
        raise InvalidInput(_("unknown bureau"), field="bureau_id")
    requested = None
    if expert_id is not None:
        requested = ExpertProfile.objects.filter(pk=expert_id, bureau=bureau, user__is_active=True).first()
        if requested is None:
            raise InvalidInput(_("this expert does not work for this bureau"), field="expert_id")
    if proposal_id is not None and not providers.is_own_proposal(actor, proposal_id):
        raise InvalidInput(_("link one of your own proposals"), field="proposal_id")
    consultation = Consultation.objects.create(
        deputy=actor,
        bureau=bureau,
        requested_expert=requested,
        topic=topic,
        proposal_id=proposal_id,
        period=current_period(),
        created_at=_now(),
    )
    _system(
        consultation,
        texts.STARTED(name=actor.full_name, bureau=bureau.name, topic=topic),
    )
    _publish(consultation, "started")
    transaction.on_commit(lambda: _route_then_tell(consultation.pk, bureau.pk))
    return consultation


def _free_experts(bureau_id: int, now: datetime) -> list[ExpertPresence]:
    """Online, connected experts of the bureau with free capacity: least loaded, then longest idle."""
    candidates = (
        ExpertPresence.objects.select_for_update(of=("self",))
        .filter(
            expert__bureau_id=bureau_id,
            status=PresenceStatus.ONLINE,
            connections__gt=0,
            last_seen__gt=now - PRESENCE_TIMEOUT,
            expert__user__is_active=True,
        )
        .select_related("expert")
        .order_by("pk")
    )
    locked = list(candidates)  # take the locks first: loads counted after them are not stale
    load = dict(
        Consultation.objects.filter(expert__bureau_id=bureau_id, status=ConsultationStatus.ACTIVE)
        .values_list("expert_id")
        .annotate(n=Count("pk"))
    )
    free = [p for p in locked if load.get(p.expert_id, 0) < p.expert.capacity]
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    free.sort(key=lambda p: (load.get(p.expert_id, 0) / p.expert.capacity, p.last_assigned_at or epoch))
    return free


MAX_ROUTING_RETRIES = 3


@transaction.atomic
def route_bureau(*, bureau_id: int, attempt: int = 0) -> list[Consultation]:
    """Hand the bureau's queue, oldest first, to free experts. Safe to run concurrently and repeatedly.

    Rows another transaction holds (e.g. the deputy posting) are skipped, then retried after commit a few
    times; the periodic ``route_waiting`` task catches anything still left.
    """
    now = _now()
    assigned: list[Consultation] = []
    waiting = Consultation.objects.filter(bureau_id=bureau_id, status=ConsultationStatus.QUEUED)
    queue = list(waiting.select_for_update(skip_locked=True, of=("self",)).order_by("created_at", "id"))
    free = _free_experts(bureau_id, now)
    if free and attempt < MAX_ROUTING_RETRIES and waiting.count() > len(queue):
        transaction.on_commit(lambda: route_bureau(bureau_id=bureau_id, attempt=attempt + 1))
    for consultation in queue:
        if not free:
            break
        choice = next((p for p in free if consultation.requested_expert_id in (None, p.expert_id)), None)
        if choice is None:
            continue  # 点将: waits for the named expert
        _assign(consultation, choice, now)
        assigned.append(consultation)
        free = _free_experts(bureau_id, now)
    if assigned:
        publish(QUEUE_CHANGED, bureau_id, {"action": "routed"})
    return assigned


def _assign(consultation: Consultation, presence: ExpertPresence, now: datetime) -> None:
    consultation.expert = presence.expert
    consultation.status = ConsultationStatus.ACTIVE
    consultation.assigned_at = consultation.assigned_at or now
    consultation.save()
    presence.last_assigned_at = now
    presence.save(update_fields=["last_assigned_at"])
    _system(
        consultation,
        texts.JOINED(name=presence.expert.user.full_name, bureau=consultation.bureau.name),
    )
    publish(CONSULTATION_ASSIGNED, presence.expert.user_id, {"id": consultation.pk, "topic": consultation.topic})
    _publish(consultation, "assigned")


def _route_then_tell(consultation_id: int, bureau_id: int) -> None:
    route_bureau(bureau_id=bureau_id)
    tell_waiting(consultation_id=consultation_id)


@transaction.atomic
def tell_waiting(*, consultation_id: int) -> None:
    """A consultation no expert could take at once: notify the experts who may take it (``access.can_read``).

    One addressed to the bureau reaches its experts; one addressed by name (点将) only the expert named.
    """
    consultation = Consultation.objects.filter(pk=consultation_id, status=ConsultationStatus.QUEUED).first()
    if consultation is None:
        return
    experts = User.objects.filter(role=Role.EXPERT, is_active=True, expert_profile__bureau_id=consultation.bureau_id)
    readers = [user.pk for user in experts.select_related("expert_profile") if can_read(user, consultation)]
    named = consultation.requested_expert_id is not None
    notify(
        readers,
        kind="consultation.waiting_for_you" if named else "consultation.waiting",
        params={"subject": consultation.topic},
        url=reverse("desk-room", args=[consultation.pk]),
    )


def route_waiting() -> int:
    """Route every bureau that has someone waiting (the periodic safety net). Returns how many were assigned."""
    bureaus = Consultation.objects.filter(status=ConsultationStatus.QUEUED).values_list("bureau_id", flat=True)
    return sum(len(route_bureau(bureau_id=bureau_id)) for bureau_id in set(bureaus))


def queue_position(consultation: Consultation) -> int | None:
    """1 for the head of the bureau's queue; None once it is no longer waiting."""
    if consultation.status != ConsultationStatus.QUEUED:
        return None
    ahead = Consultation.objects.filter(bureau_id=consultation.bureau_id, status=ConsultationStatus.QUEUED).filter(
        Q(created_at__lt=consultation.created_at) | Q(created_at=consultation.created_at, id__lt=consultation.pk)
    )
    return ahead.count() + 1


# --- during and after ---------------------------------------------------------------------------


def _locked(consultation_id: int) -> Consultation:
    consultation = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("bureau", "expert__user")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFound(_("no such consultation"))
    return consultation


def _require_assigned_expert(actor: User, consultation: Consultation) -> ExpertProfile:
    if consultation.expert is None or consultation.expert.user_id != actor.pk:
        raise NotAllowed(_("only the expert handling this consultation may do this"))
    return consultation.expert


@transaction.atomic
def transfer_consultation(
    *, actor: User, consultation_id: int, note: str, to_expert_id: int | None = None, to_bureau_id: int | None = None
) -> Consultation:
    """转接: to a named colleague or expert of another bureau, or back to a bureau's queue."""
    consultation = _locked(consultation_id)
    if consultation.status != ConsultationStatus.ACTIVE:
        raise InvalidTransition(
            _("only a consultation in progress can be transferred"), code="invalid_transition:transfer"
        )
    expert = _require_assigned_expert(actor, consultation)
    note = note.strip()
    if not note:
        raise InvalidInput(_("say why you transfer it"), field="note")
    target_expert = None
    if to_expert_id is not None:
        target_expert = (
            ExpertProfile.objects.filter(pk=to_expert_id, user__is_active=True).select_related("user").first()
        )
        if target_expert is None or target_expert.pk == expert.pk:
            raise InvalidInput(_("choose another expert"), field="to_expert_id")
        to_bureau_id = target_expert.bureau_id
    bureau = Bureau.objects.filter(pk=to_bureau_id or consultation.bureau_id, is_active=True).first()
    if bureau is None:
        raise InvalidInput(_("unknown bureau"), field="to_bureau_id")
    ConsultationTransfer.objects.create(
        consultation=consultation, from_expert=expert, to_bureau=bureau, to_expert=target_expert, note=note[:500]
    )
    old_bureau = consultation.bureau_id
    consultation.bureau, consultation.expert, consultation.requested_expert = bureau, None, target_expert
    consultation.status = ConsultationStatus.QUEUED
    consultation.save()
    who = target_expert.user.full_name if target_expert else bureau.name
    _system(
        consultation,
        texts.TRANSFERRED(name=actor.full_name, who=who, note=note),
    )
    _publish(consultation, "transferred")
    transaction.on_commit(lambda: route_bureau(bureau_id=bureau.pk))
    transaction.on_commit(lambda: route_bureau(bureau_id=old_bureau))
    return consultation


@transaction.atomic
def end_consultation(*, actor: User, consultation_id: int) -> Consultation:
    consultation = _locked(consultation_id)
    is_expert = consultation.expert is not None and consultation.expert.user_id == actor.pk
    if actor.pk != consultation.deputy_id and not is_expert:
        raise NotAllowed(_("only the deputy or the expert ends a consultation"))
    if consultation.status == ConsultationStatus.ENDED:
        raise InvalidTransition(_("the consultation has already ended"), code="invalid_transition:end")
    consultation.status = ConsultationStatus.ENDED
    consultation.ended_at, consultation.ended_by = _now(), actor
    consultation.save()
    _system(consultation, texts.ENDED(name=actor.full_name))
    _publish(consultation, "ended")
    if is_expert:  # the expert ended it: the deputy is asked to rate it
        url = reverse("desk-room", args=[consultation.pk])
        notify([consultation.deputy_id], kind="consultation.rate", params={"subject": consultation.topic}, url=url)
    transaction.on_commit(lambda: route_bureau(bureau_id=consultation.bureau_id))
    return consultation


@transaction.atomic
def record_outcome(*, actor: User, consultation_id: int, outcome: str, note: str = "") -> Consultation:
    """The expert records what came of it; 转为建议 lets the deputy start a proposal draft from it."""
    consultation = _locked(consultation_id)
    _require_assigned_expert(actor, consultation)
    if outcome not in Outcome.values:
        raise InvalidInput(_("choose an outcome"), field="outcome")
    consultation.outcome, consultation.outcome_note = outcome, note.strip()[:5000]
    consultation.save(update_fields=["outcome", "outcome_note"])
    _system(consultation, texts.OUTCOME(outcome=label("desk.outcome", outcome)))
    _publish(consultation, "outcome")
    return consultation


@transaction.atomic
def rate_consultation(*, actor: User, consultation_id: int, rating: int, comment: str = "") -> Consultation:
    consultation = _locked(consultation_id)
    if actor.pk != consultation.deputy_id:
        raise NotAllowed(_("only the deputy rates the consultation"))
    if consultation.status != ConsultationStatus.ENDED:
        raise InvalidTransition(_("rate the consultation once it has ended"), code="invalid_transition:rate")
    if consultation.expert_id is None and not consultation.transfers.exists():
        raise InvalidTransition(
            _("nobody took this consultation; there is nothing to rate"), code="invalid_transition:rate"
        )
    if rating not in range(1, 6):
        raise InvalidInput(_("rate from 1 to 5"), field="rating")
    consultation.rating, consultation.rating_comment = rating, comment.strip()[:500]
    consultation.save(update_fields=["rating", "rating_comment"])
    _publish(consultation, "rated")
    return consultation
