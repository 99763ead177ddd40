"""Live voice calls in a consultation: every state change, the Janus room of each call, and what follows a call.

Life cycle (the ``Call`` row is the record; each change writes a system line in the thread and publishes ``call``)::

    start_call ─► ringing ──accept──► active ──hang_up / a participant's socket closes──► ended
                     │ decline ─► declined
                     │ hang_up by the caller, or CALL_RING_SECONDS without an answer ─► missed

Who may (``consult.desk.access.can_post``): the consultation's deputy and the expert answering now, while it is
active, start and answer; the expert answering may invite a second expert (any expert of any bureau, as a
consultation may be transferred to any bureau) into the call under way (``invite_expert``), who then joins
(``accept_call``) or declines, and reads the consultation while invited (``access.call_guest``); nobody else joins
or hears a call. Hanging up: the deputy leaving ends the call; anyone else leaves, and the call ends when fewer than
two remain in it. Each join and leave is a line in the thread. One live call per consultation (a second
``start_call`` is ``busy``). Each call gets its own Janus VideoRoom, on the least loaded Janus of ``JANUS_URLS``
that answers (``hosts_by_load``), created here with recording on and a recording folder of its own
(``MEDIA_ROOT/calls/<id>``), destroyed when the call ends. After the call (``process_call``, a Celery task): each
speaker's ``.mjr`` becomes Opus (``janus-pp-rec``), one transcription job per track (source kind
``chat.call-track``), and :func:`call_transcript` merges the tracks' segments on one timeline by each track's start.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import texts
from chat.janus import JanusAdmin, JanusError
from chat.live_events import CALL
from chat.models import Call, CallParticipant, CallState, CallTrack, RecordingAccess
from chat.services import post_system_message
from consult.desk import access
from consult.kernel.exceptions import DomainError, InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.kernel.texts import Said
from consult.models import Consultation, ConsultationStatus, User
from consult.notifications.services import notify
from consult.people.roles import Role
from consult.people.selectors import Viewer, role_of
from consult.realtime.catalogue import publish
from transcription import services as transcription
from transcription.models import Transcript

logger = logging.getLogger(__name__)

SOURCE_KIND = "chat.call-track"
LIVE = (CallState.RINGING, CallState.ACTIVE)
MAX_PARTICIPANTS = 3  # the two sides and one invited expert


class CallsUnavailable(DomainError):
    code = "calls_unavailable"


class Busy(DomainError):
    code = "busy"


def janus_admin(url: str | None = None) -> JanusAdmin:
    return JanusAdmin(url or settings.JANUS_URLS[0], settings.JANUS_API_SECRET)


_availability: dict[str, tuple[float, bool]] = {}
ANSWER_CACHE_S = 15.0  # how long a host's answer (up or down) is remembered: every room page and call asks


def janus_answers(url: str) -> bool:
    """Whether this Janus answers ``info`` with the VideoRoom plugin (remembered for ``ANSWER_CACHE_S``)."""
    now = time.monotonic()
    cached = _availability.get(url)
    if cached is None or now - cached[0] > ANSWER_CACHE_S:
        cached = (now, janus_admin(url).ping())
        _availability[url] = cached
    return cached[1]


def _mark_down(url: str) -> None:
    _availability[url] = (time.monotonic(), False)


def forget_janus_answers() -> None:
    _availability.clear()


def media_available() -> bool:
    """Whether any Janus of ``JANUS_URLS`` answers."""
    return any(janus_answers(url) for url in settings.JANUS_URLS)


def hosts_by_load() -> list[str]:
    """The Janus hosts that answer, the one with the fewest live calls first (ties: the order of ``JANUS_URLS``).
    A host that does not answer is left out until its answer is forgotten (``ANSWER_CACHE_S``)."""
    up = [url for url in settings.JANUS_URLS if janus_answers(url)]
    live = Call.objects.filter(state__in=LIVE, janus_url__in=up).values_list("janus_url", flat=True)
    load = {url: 0 for url in up}
    for url in live:
        load[url] += 1
    return sorted(up, key=lambda url: (load[url], settings.JANUS_URLS.index(url)))


def media_dir(call: Call) -> Path:
    return Path(settings.MEDIA_ROOT) / call.rec_dir


# --- payloads ------------------------------------------------------------------------------------------------


def call_payload(call: Call) -> dict[str, Any]:
    participants = [
        {
            "user": p.user_id,
            "name": p.user.get_full_name(),
            "role": p.role,
            "joined": p.joined_at is not None,
            "left": p.left_at is not None,
            "invited": p.invited_by_id is not None,
        }
        for p in call.participants.select_related("user").order_by("pk")
    ]
    return {
        "id": call.pk,
        "state": call.state,
        "started_by": call.started_by_id,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "recorded": bool(call.rec_dir),
        "recording_purged": call.recording_purged_at is not None,
        "ring_seconds": settings.CALL_RING_SECONDS,
        "participants": participants,
    }


def _publish(call: Call) -> None:
    publish(CALL, call.consultation_id, {"call": call_payload(call)})


def _role(user: User) -> str:
    return str(Role.DEPUTY if role_of(user) == Role.DEPUTY else Role.EXPERT)


# --- the life cycle ------------------------------------------------------------------------------------------


def _writable(actor: Viewer, consultation_id: int, *, guests: bool = False) -> Consultation:
    """The consultation locked, when the actor takes part in its calls (``guests``: an invited expert too)."""
    consultation = (
        Consultation.objects.select_for_update(of=("self",)).select_related("expert").filter(pk=consultation_id).first()
    )
    if consultation is None or not access.can_read(actor, consultation):
        raise NotFound(_("no such consultation"))
    allowed = access.can_call if guests else access.can_post
    if not allowed(actor, consultation):
        raise NotAllowed(_("only the deputy and the expert answering take part in calls"))
    if consultation.status != ConsultationStatus.ACTIVE:
        raise InvalidTransition(_("calls are possible while the consultation is active"), code="consultation_ended")
    return consultation


def _call(actor: Viewer, consultation_id: int, call_id: int) -> tuple[Call, Consultation]:
    consultation = _writable(actor, consultation_id, guests=True)
    call = Call.objects.select_for_update().filter(pk=call_id, consultation_id=consultation_id).first()
    if call is None:
        raise NotFound(_("no such call"))
    return call, consultation


def start_call(*, actor: User, consultation_id: int) -> Call:
    """Ring the other side: a Janus room is created, recording into the call's own folder (unless the bureau turned
    recording off, ``Bureau.call_recording``: then no folder, no recording, and ``recorded: false`` tells everyone)."""
    with transaction.atomic():
        consultation = _writable(actor, consultation_id)
        if Call.objects.filter(consultation_id=consultation_id, state__in=LIVE).exists():
            raise Busy(_("a call is already under way in this consultation"))
        call = Call.objects.create(
            consultation=consultation, started_by=actor, janus_url="", room=secrets.randbelow(2**52) + 1
        )
        CallParticipant.objects.create(call=call, user=actor, role=_role(actor))
        if settings.CALL_RECORDING and consultation.bureau.call_recording:  # the bureau may turn it off
            call.rec_dir = f"calls/{call.pk}"
            call.save(update_fields=["rec_dir"])
            media_dir(call).mkdir(parents=True, exist_ok=True)
        call.janus_url = _create_room(call)
        call.save(update_fields=["janus_url"])
        post_system_message(consultation=consultation, said=texts.CALL_STARTED(name=actor.get_full_name()))
        _publish(call)
        transaction.on_commit(lambda: _schedule_ring_timeout(call.pk))
    return call


def _invitation(call: Call, actor: User) -> CallParticipant | None:
    """The actor's invitation into this call under way, not yet answered."""
    return (
        call.participants.filter(user=actor, invited_by__isnull=False, joined_at__isnull=True, left_at__isnull=True)
        .select_for_update()
        .first()
        if call.state == CallState.ACTIVE
        else None
    )


def _create_room(call: Call) -> str:
    """The call's room on the least loaded Janus that answers (rooms placed by load across ``JANUS_URLS``); a host
    that fails to create it is marked down and the next one is tried. Where none can: ``CallsUnavailable``."""
    for url in hosts_by_load():
        try:
            janus_admin(url).create_room(
                call.room, rec_dir=str(media_dir(call)), record=bool(call.rec_dir), description=f"call {call.pk}"
            )
        except JanusError as error:
            logger.warning("call %s: no Janus room on %s: %s", call.pk, url, error)
            _mark_down(url)
            continue
        return url
    raise CallsUnavailable(_("calls are not available now (no media server)"))


def accept_call(*, actor: User, consultation_id: int, call_id: int) -> Call:
    """The callee answers a ringing call; an invited expert joins the call under way."""
    with transaction.atomic():
        call, consultation = _call(actor, consultation_id, call_id)
        invitation = _invitation(call, actor)
        if invitation is not None:
            invitation.joined_at = timezone.now()
            invitation.save(update_fields=["joined_at"])
            post_system_message(consultation=consultation, said=texts.CALL_ENTERED(name=actor.get_full_name()))
            _publish(call)
            return call
        if call.state != CallState.RINGING or call.started_by_id == actor.pk:
            raise InvalidTransition(_("this call is not ringing for you"), code="call_not_ringing")
        call.state, call.answered_at = CallState.ACTIVE, timezone.now()
        call.save(update_fields=["state", "answered_at"])
        try:
            with transaction.atomic():
                CallParticipant.objects.create(call=call, user=actor, role=_role(actor))
        except IntegrityError:
            pass
        post_system_message(consultation=consultation, said=texts.CALL_JOINED(name=actor.get_full_name()))
        _publish(call)
    return call


def decline_call(*, actor: User, consultation_id: int, call_id: int) -> Call:
    """The callee declines a ringing call; an invited expert declines to join (the call goes on)."""
    with transaction.atomic():
        call, consultation = _call(actor, consultation_id, call_id)
        invitation = _invitation(call, actor)
        if invitation is not None:
            _decline_invitation(call, consultation, invitation, actor)
            return call
        if call.state != CallState.RINGING or call.started_by_id == actor.pk:
            raise InvalidTransition(_("this call is not ringing for you"), code="call_not_ringing")
        _end(call, consultation, CallState.DECLINED, texts.CALL_DECLINED(name=actor.get_full_name()))
    return call


def _decline_invitation(call: Call, consultation: Consultation, invitation: CallParticipant, actor: User) -> None:
    invitation.left_at = timezone.now()
    invitation.save(update_fields=["left_at"])
    post_system_message(consultation=consultation, said=texts.CALL_DECLINED_INVITATION(name=actor.get_full_name()))
    _publish(call)


def hang_up(*, actor: User, consultation_id: int, call_id: int) -> Call:
    """Leave the call. The deputy leaving ends it; anyone else leaves it, and it ends when fewer than two remain
    (one-to-one: one leaving ends it). The caller hanging up a ringing call misses it."""
    with transaction.atomic():
        call, consultation = _call(actor, consultation_id, call_id)
        participant = call.participants.filter(user=actor, left_at__isnull=True).first()
        if participant is None:
            raise NotAllowed(_("you are not in this call"))
        if call.state == CallState.RINGING:
            _end(call, consultation, CallState.MISSED, texts.CALL_MISSED(name=call.started_by.get_full_name()))
        elif call.state == CallState.ACTIVE:
            _leave(call, consultation, participant, actor)
    return call


def _leave(call: Call, consultation: Consultation, participant: CallParticipant, actor: User) -> None:
    if participant.invited_by_id is not None and participant.joined_at is None:
        _decline_invitation(call, consultation, participant, actor)
        return
    remaining = call.participants.filter(left_at__isnull=True).exclude(pk=participant.pk)
    others = remaining.exclude(invited_by__isnull=False, joined_at__isnull=True).count()  # pending invitations: no
    if actor.pk == consultation.deputy_id or others < 2:
        _end(call, consultation, CallState.ENDED, _ended_line(call, actor))
        return
    participant.left_at = timezone.now()
    participant.save(update_fields=["left_at"])
    post_system_message(consultation=consultation, said=texts.CALL_LEFT(name=actor.get_full_name()))
    _publish(call)


def invite_expert(*, actor: User, consultation_id: int, call_id: int, expert_id: int) -> Call:
    """The expert answering brings a second expert into the call under way: a line in the thread, a notification
    to the invited expert (who joins from the consultation's page, which they read while invited). An expert who
    declined or left may be invited again; one still invited or in the call is ``already_invited``."""
    with transaction.atomic():
        call, consultation = _call(actor, consultation_id, call_id)
        if consultation.expert is None or consultation.expert.user_id != actor.pk:
            raise NotAllowed(_("only the expert answering invites a colleague into the call"))
        if call.state != CallState.ACTIVE or not call.participants.filter(user=actor, left_at__isnull=True).exists():
            raise InvalidTransition(_("this call is not under way for you"), code="call_not_active")
        invitee = User.objects.filter(pk=expert_id, is_active=True).first()
        if invitee is None or role_of(invitee) != Role.EXPERT or invitee.pk == actor.pk:
            raise InvalidInput(_("'expert' must be another expert"), field="expert")
        before = call.participants.filter(user=invitee).first()
        if before is not None and before.left_at is None:  # invited and not answered yet, or in the call
            raise InvalidTransition(_("this expert has already been invited to the call"), code="already_invited")
        if call.participants.filter(left_at__isnull=True).count() >= MAX_PARTICIPANTS:
            raise Busy(_("this call holds no more speakers"), code="call_full")
        if before is None:
            CallParticipant.objects.create(call=call, user=invitee, role=str(Role.EXPERT), invited_by=actor)
        else:  # declined or left: invited again on the same row (one per person and call); the thread keeps each step
            before.invited_by, before.joined_at, before.left_at = actor, None, None
            before.save(update_fields=["invited_by", "joined_at", "left_at"])
        names = {"name": actor.get_full_name(), "guest": invitee.get_full_name()}
        post_system_message(consultation=consultation, said=texts.CALL_INVITED(**names))
        subject = f"{names['name']} · {consultation.topic}"
        room = reverse("desk-room", args=[consultation.pk])
        notify([invitee.pk], kind="consultation.call_invite", params={"subject": subject}, url=room)
        _publish(call)
    return call


def left(*, actor: User, consultation_id: int, call_id: int) -> None:
    """A participant's socket closed mid-call: they hang up at once (as ``hang_up``: one-to-one, the call ends; the
    others are told by ``call``)."""
    try:
        hang_up(actor=actor, consultation_id=consultation_id, call_id=call_id)
    except DomainError:
        # no longer a writer (transferred) or the consultation ended: end the call anyway
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=call_id, state__in=LIVE).first()
            participant = call.participants.filter(user=actor, left_at__isnull=True).first() if call else None
            if call is not None and participant is not None:
                consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=call.consultation_id)
                if call.state == CallState.ACTIVE:
                    _leave(call, consultation, participant, actor)
                else:
                    _end(call, consultation, CallState.ENDED, _ended_line(call, actor))


def expire_ringing(*, now: datetime | None = None) -> int:
    """Ringing calls older than ``CALL_RING_SECONDS`` become missed (the beat runs it; so does each call's timer)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CALL_RING_SECONDS)
    expired = 0
    for call_id in Call.objects.filter(state=CallState.RINGING, started_at__lte=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=call_id, state=CallState.RINGING).first()
            if call is None:
                continue
            consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=call.consultation_id)
            _end(call, consultation, CallState.MISSED, texts.CALL_UNANSWERED(name=call.started_by.get_full_name()))
            expired += 1
    return expired


def _call_length(call: Call) -> str:
    seconds = int((timezone.now() - (call.answered_at or call.started_at)).total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _ended_line(call: Call, actor: User) -> Said:
    return texts.CALL_ENDED(name=actor.get_full_name(), duration=_call_length(call))


def _end(call: Call, consultation: Consultation, state: str, line: Said) -> None:
    call.state, call.ended_at = state, timezone.now()
    call.save(update_fields=["state", "ended_at"])
    call.participants.filter(left_at__isnull=True).update(left_at=call.ended_at)  # invitations lapse with it
    post_system_message(consultation=consultation, said=line)
    _publish(call)
    url, room, call_id, answered = call.janus_url, call.room, call.pk, call.answered_at is not None
    transaction.on_commit(lambda: _after_end(url, room, call_id, answered))


def _after_end(url: str, room: int, call_id: int, answered: bool) -> None:
    try:
        janus_admin(url).destroy_room(room)
    except JanusError as error:
        logger.warning("call %s: Janus room %s not destroyed: %s", call_id, room, error)
    if answered:
        from chat import tasks

        tasks.process_call.delay(call_id)


def _schedule_ring_timeout(call_id: int) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no worker to wait: the beat's sweep (or the caller's page) ends it
    from chat import tasks

    try:
        tasks.expire_ringing_calls.apply_async(countdown=settings.CALL_RING_SECONDS + 1)
    except Exception:
        logger.exception("call %s: the ring timeout could not be scheduled (the beat's sweep will end it)", call_id)


def media_lost(*, call_id: int) -> bool:
    """The call's media server went away (a socket's Janus session died, or :func:`sweep_lost_media` found its host
    silent or its room gone): the one state change of a media fault. The call ends for everyone with a line saying
    why; what was recorded up to then is processed as after a hang-up. False when the call had ended already."""
    consultation_id = Call.objects.filter(pk=call_id).values_list("consultation_id", flat=True).first()
    if consultation_id is None:
        return False
    with transaction.atomic():  # the consultation first, then the call: the order every service locks in
        consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=consultation_id)
        call = Call.objects.select_for_update().filter(pk=call_id, state__in=LIVE).first()
        if call is None:
            return False
        _end(call, consultation, CallState.ENDED, texts.CALL_MEDIA_LOST(duration=_call_length(call)))
    logger.warning("call %s ended: its media server %s went away", call_id, call.janus_url)
    return True


def sweep_lost_media() -> int:
    """Live calls whose Janus host stopped answering, or no longer holds their room (it restarted), end through
    :func:`media_lost`: the beat runs it for the calls no socket is watching (ringing, or nobody published yet).
    One ping per host and one question per live call, bounded by the live calls."""
    hosts: dict[str, list[tuple[int, int]]] = {}
    for call_id, url, room in Call.objects.filter(state__in=LIVE).values_list("pk", "janus_url", "room"):
        hosts.setdefault(url, []).append((call_id, room))
    ended = 0
    for url, rooms in hosts.items():
        admin = janus_admin(url)
        answering = admin.ping()
        for call_id, room in rooms:
            if answering:
                try:
                    if admin.room_exists(room):
                        continue
                except JanusError as error:
                    logger.info(
                        "call %s: Janus at %s did not say whether room %s exists: %s", call_id, url, room, error
                    )
                    continue
            ended += media_lost(call_id=call_id)
    return ended


# --- media: what the chat socket may do in Janus ----------------------------------------------------------------


def media_grant(*, actor: User, consultation_id: int, call_id: int) -> dict[str, Any]:
    """Where this participant publishes, checked now: the call is active and the actor is in it (the socket's
    Janus session is opened only with this). ``filename``: the recording of this speaker, named by the server."""
    with transaction.atomic():
        call, _consultation = _call(actor, consultation_id, call_id)
        participant = call.participants.filter(user=actor, left_at__isnull=True).first()
        pending = participant is not None and participant.invited_by_id is not None and participant.joined_at is None
        if call.state != CallState.ACTIVE or participant is None or pending:
            raise InvalidTransition(_("this call is not under way for you"), code="call_not_active")
        if participant.joined_at is None:
            participant.joined_at = timezone.now()
            participant.save(update_fields=["joined_at"])
            _publish(call)
    stamp = int(timezone.now().timestamp() * 1000)
    filename = f"user-{actor.pk}-{stamp}" if call.rec_dir else ""  # in the room's rec_dir (Janus joins them)
    return {"url": call.janus_url, "room": call.room, "display": str(actor.pk), "filename": filename}


def live_call_of(consultation_id: int) -> Call | None:
    return Call.objects.filter(consultation_id=consultation_id, state__in=LIVE).first()


# --- after the call ------------------------------------------------------------------------------------------


def mjr_header(path: Path) -> dict[str, Any]:
    """The JSON header of a Janus recording: ``s`` created, ``u`` first packet written (µs since the epoch)."""
    argv = [_tool("janus-pp-rec"), "-j", str(path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)  # noqa: S603 (our paths)
    start = out.stdout.find("{")
    return dict(json.loads(out.stdout[start : out.stdout.rindex("}") + 1]))


def process_call(call_id: int) -> list[CallTrack]:
    """Each speaker's ``.mjr`` → Opus, a ``CallTrack``, and its own transcription job (idempotent per file)."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None or not call.rec_dir:
        return []
    folder = media_dir(call)
    tracks = []
    for mjr in sorted(folder.glob("user-*.mjr")):
        user_id = int(mjr.name.split("-")[1])
        opus = mjr.with_suffix(".opus")
        if not opus.exists():
            argv = [_tool("janus-pp-rec"), str(mjr), str(opus)]
            subprocess.run(argv, capture_output=True, timeout=300, check=True)  # noqa: S603 (our paths)
        header = mjr_header(mjr)
        started = int(header.get("u") or header.get("s") or 0)
        name = f"{call.rec_dir}/{opus.name}"
        with transaction.atomic():
            track, created = CallTrack.objects.get_or_create(
                call=call,
                mjr=f"{call.rec_dir}/{mjr.name}",
                defaults={"user_id": user_id, "audio": name, "started_us": started, "duration": _duration(opus)},
            )
            if created and opus.stat().st_size > 0:
                transcription.request_transcript(source_kind=SOURCE_KIND, source_id=track.pk, audio=name)
        tracks.append(track)
    Call.objects.filter(pk=call_id).update(processed_at=timezone.now())
    return tracks


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise OSError(f"{name} is not installed")
    return found


def _duration(opus: Path) -> float:
    try:
        out = subprocess.run(  # noqa: S603 (our paths)
            [_tool("ffprobe"), "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(opus)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return float(out.stdout.strip() or 0)
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0.0


# --- retention ----------------------------------------------------------------------------------------------


def purge_recordings(*, now: datetime | None = None) -> int:
    """Delete the recordings of calls that ended more than ``CALL_RECORDING_RETENTION_DAYS`` ago (0: keep them):
    the call's folder (each speaker's ``.mjr`` and Opus) goes, each track's ``audio`` is emptied, and the transcript
    stays (the text is kept like the thread's messages; the voices go). A line in the thread says so. Idempotent:
    a purged call is marked (``recording_purged_at``) and never purged twice; a file already gone is no error."""
    days = settings.CALL_RECORDING_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    due = Call.objects.filter(ended_at__lte=cutoff, recording_purged_at__isnull=True).exclude(rec_dir="")
    purged = 0
    for call_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            call = Call.objects.select_for_update().filter(pk=call_id, recording_purged_at__isnull=True).first()
            if call is None:
                continue
            folder = media_dir(call)
            shutil.rmtree(folder, ignore_errors=True)
            if folder.exists():  # not deleted (permissions): tried again by the next run, nothing marked
                logger.error("call %s: its recordings in %s could not be deleted", call.pk, folder)
                continue
            call.tracks.update(audio="")
            call.recording_purged_at = timezone.now()
            call.save(update_fields=["recording_purged_at"])
            consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=call.consultation_id)
            started = timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M")
            said = texts.CALL_RECORDING_PURGED(started=started, days=days)
            post_system_message(consultation=consultation, said=said)
            logger.info("call %s: recordings deleted (retention %s days)", call.pk, days)
            purged += 1
    return purged


# --- the audit of recordings -------------------------------------------------------------------------------


def audit_access(*, viewer: Viewer, call_id: int, kind: str, address: str = "", track_id: int | None = None) -> None:
    """One row in the audit log for a recording served (a track's audio, the replay page, the transcript): called by
    the views once the access was allowed and the thing found; a refused request writes nothing."""
    try:
        ip: str | None = str(ipaddress.ip_address(address))
    except ValueError:
        ip = None
    RecordingAccess.objects.create(user_id=int(viewer.pk or 0), call_id=call_id, track_id=track_id, kind=kind, ip=ip)


def readable_call(viewer: Viewer, consultation_id: int, call_id: int) -> Call:
    """A call of a consultation the viewer reads (its recordings and transcript follow the consultation's readers)."""
    call = Call.objects.select_related("consultation__expert").filter(pk=call_id, consultation_id=consultation_id)
    found = call.first()
    if found is None or not access.can_read(viewer, found.consultation):
        raise NotFound(_("no such call"))
    return found


def call_transcript(call: Call) -> dict[str, Any]:
    """The call's tracks and one transcript: every track's segments on the call's timeline, naming the speaker.

    A line is keyed by (``track``, ``index``); ``text`` is its current text (the latest correction, else the
    machine's, kept in ``machine_text``), ``transcript`` the track's transcript id (corrections go there)."""
    tracks = list(CallTrack.objects.filter(call=call).select_related("user"))
    roles = dict(call.participants.values_list("user_id", "role"))
    origin = min((t.started_us for t in tracks), default=0)
    transcripts = {
        t.source_id: t
        for t in Transcript.objects.filter(
            source_kind=SOURCE_KIND, source_id__in=[t.pk for t in tracks]
        ).prefetch_related("segments")
    }
    lines: list[dict[str, Any]] = []
    track_rows = []
    for track in tracks:
        offset = (track.started_us - origin) / 1e6
        transcript = transcripts.get(track.pk)
        speaker = {"user": track.user_id, "name": track.user.get_full_name(), "role": roles.get(track.user_id, "")}
        track_rows.append(
            {
                "id": track.pk,
                "offset": offset,
                "duration": track.duration,
                "status": transcript.status if transcript else None,
                **speaker,
            }
        )
        if transcript is None:
            continue
        current = transcription.segment_texts(transcript)
        for segment in transcript.segments.all():
            text = current.get(segment.index, segment.text)
            lines.append(
                {
                    "start": round(offset + segment.start, 2),
                    "end": round(offset + segment.end, 2),
                    "text": text,
                    "machine_text": segment.text,
                    "corrected": text != segment.text,
                    "track": track.pk,
                    "index": segment.index,
                    "transcript": transcript.pk,
                    **speaker,
                }
            )
    lines.sort(key=lambda line: (line["start"], line["track"]))
    return {"call": call_payload(call), "tracks": track_rows, "lines": lines}


def track_changed(transcript: Transcript) -> None:
    """The transcription app's hook for ``chat.call-track``: the thread's call card re-reads its transcript."""
    call = Call.objects.filter(tracks__pk=transcript.source_id).first()
    if call is not None:
        with transaction.atomic():
            _publish(call)
