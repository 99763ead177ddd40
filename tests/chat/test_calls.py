"""Calls (``chat.calls``): the life cycle, who may take part, the thread's lines, the merged transcript, and the
signalling frames' validation. Janus is replaced by a recorder here; ``test_call_janus.py`` uses a real one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat import call_frames, calls, tasks
from chat.janus import JanusError
from chat.models import Call, CallParticipant, CallState, CallTrack, Message, MessageKind
from consult.desk import services as desk
from consult.kernel.exceptions import DomainError, NotAllowed, NotFound
from consult.models import Consultation, User
from consult.realtime.frames import FieldProblem
from transcription import services as transcription
from transcription.models import Transcript

pytestmark = pytest.mark.django_db


class FakeJanus:
    def __init__(self) -> None:
        self.rooms: dict[int, dict[str, Any]] = {}
        self.destroyed: list[int] = []
        self.down = False

    def create_room(self, room: int, **options: Any) -> None:
        if self.down:
            raise JanusError("Janus at ws://127.0.0.1:1 is not reachable")
        self.rooms[room] = options

    def destroy_room(self, room: int) -> None:
        self.destroyed.append(room)

    def ping(self) -> bool:
        return not self.down


@pytest.fixture
def janus(monkeypatch: pytest.MonkeyPatch) -> FakeJanus:
    fake = FakeJanus()
    monkeypatch.setattr(calls, "janus_admin", lambda url=None: fake)
    calls.forget_janus_answers()
    monkeypatch.setattr(tasks.process_call, "delay", lambda call_id: None)
    monkeypatch.setattr(tasks.expire_ringing_calls, "apply_async", lambda **kw: None)
    return fake


def lines(consultation: Consultation) -> list[str]:
    return list(
        Message.objects.filter(consultation=consultation, kind=MessageKind.SYSTEM, seq__gt=2)
        .order_by("seq")
        .values_list("body", flat=True)
    )


def test_a_call_rings_in_its_own_recorded_room_and_is_answered(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call = calls.start_call(actor=deputy, consultation_id=consultation.pk)

    assert call.state == CallState.RINGING
    assert janus.rooms[call.room]["record"] is True
    assert janus.rooms[call.room]["rec_dir"].endswith(f"calls/{call.pk}")

    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    call.refresh_from_db()

    assert call.state == CallState.ACTIVE
    assert call.answered_at is not None
    assert set(CallParticipant.objects.filter(call=call).values_list("user_id", "role")) == {
        (deputy.pk, "deputy"),
        (expert.pk, "expert"),
    }
    payload = calls.call_payload(call)
    assert payload["recorded"] is True
    assert [p["user"] for p in payload["participants"]] == [deputy.pk, expert.pk]


def test_hanging_up_ends_the_call_destroys_its_room_and_writes_the_duration(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, django_capture_on_commit_callbacks: Any
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    with django_capture_on_commit_callbacks(execute=True):
        calls.hang_up(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    call.refresh_from_db()

    assert call.state == CallState.ENDED
    assert call.ended_at is not None
    assert janus.destroyed == [call.room]
    said = lines(consultation)
    assert len(said) == 3, said
    assert "0:00" in said[2], said  # the duration


def test_the_callee_declines_and_the_caller_cannot_answer_their_own_call(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)

    with pytest.raises(DomainError) as refused:
        calls.accept_call(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)
    assert refused.value.code == "call_not_ringing"

    calls.decline_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    call.refresh_from_db()
    assert call.state == CallState.DECLINED


def test_one_live_call_per_consultation(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User
) -> None:
    calls.start_call(actor=deputy, consultation_id=consultation.pk)

    with pytest.raises(calls.Busy):
        calls.start_call(actor=expert, consultation_id=consultation.pk)


def test_the_caller_hanging_up_a_ringing_call_misses_it(
    janus: FakeJanus, consultation: Consultation, deputy: User
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.hang_up(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)
    call.refresh_from_db()

    assert call.state == CallState.MISSED


def test_an_unanswered_call_is_missed_after_the_ring_time(
    janus: FakeJanus, consultation: Consultation, deputy: User, settings: Any
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)

    assert calls.expire_ringing(now=timezone.now()) == 0
    later = timezone.now() + timedelta(seconds=settings.CALL_RING_SECONDS + 1)
    assert calls.expire_ringing(now=later) == 1
    call.refresh_from_db()
    assert call.state == CallState.MISSED
    assert "无人接听" in lines(consultation)[-1]  # no answer (the site speaks Chinese)


def test_only_the_consultations_writers_take_part(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, staff: User, cosigner: User
) -> None:
    with pytest.raises(NotAllowed):
        calls.start_call(actor=staff, consultation_id=consultation.pk)  # the office reads, never joins
    with pytest.raises(NotFound):
        calls.start_call(actor=cosigner, consultation_id=consultation.pk)  # not a reader at all
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    with pytest.raises(NotAllowed):
        calls.accept_call(actor=staff, consultation_id=consultation.pk, call_id=call.pk)
    with pytest.raises(NotAllowed):
        calls.media_grant(actor=staff, consultation_id=consultation.pk, call_id=call.pk)
    with pytest.raises(DomainError) as refused:
        calls.media_grant(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)  # ringing: no media yet
    assert refused.value.code == "call_not_active"
    with pytest.raises(NotFound):
        calls.readable_call(cosigner, consultation.pk, call.pk)


def test_the_media_grant_names_the_speakers_recording_on_the_server(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)

    grant = calls.media_grant(actor=expert, consultation_id=consultation.pk, call_id=call.pk)

    assert grant["room"] == call.room
    assert grant["display"] == str(expert.pk)
    assert grant["filename"].startswith(f"user-{expert.pk}-")  # in the room's own folder, calls/<id>
    assert CallParticipant.objects.get(call=call, user=expert).joined_at is not None


def test_no_media_server_means_no_call_and_nothing_stored(
    janus: FakeJanus, consultation: Consultation, deputy: User
) -> None:
    janus.down = True

    with pytest.raises(calls.CallsUnavailable):
        calls.start_call(actor=deputy, consultation_id=consultation.pk)

    assert not Call.objects.exists()
    assert lines(consultation) == []


def test_a_call_ends_when_the_consultation_leaves_its_writer(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User
) -> None:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    desk.end_consultation(actor=expert, consultation_id=consultation.pk)

    calls.left(actor=expert, consultation_id=consultation.pk, call_id=call.pk)  # the socket closed after
    call.refresh_from_db()

    assert call.state == CallState.ENDED


def test_the_transcript_puts_each_speakers_lines_on_one_timeline(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    first = CallTrack.objects.create(call=call, user=deputy, mjr="a.mjr", audio="a.opus", started_us=1_000_000_000)
    second = CallTrack.objects.create(call=call, user=expert, mjr="b.mjr", audio="b.opus", started_us=1_002_500_000)
    for track, segments in ((first, [(0.0, 2.0, "您好"), (4.0, 5.0, "谢谢")]), (second, [(0.5, 1.2, "请讲")])):
        transcript = transcription.request_transcript(source_kind=calls.SOURCE_KIND, source_id=track.pk, audio="x")
        for index, (start, end, text) in enumerate(segments):
            transcript.segments.create(index=index, start=start, end=end, text=text, confidence=0.9)
    assert isinstance(Transcript.objects.first(), Transcript)

    merged = calls.call_transcript(call)

    assert [(line["start"], line["name"], line["role"], line["text"]) for line in merged["lines"]] == [
        (0.0, deputy.full_name, "deputy", "您好"),
        (3.0, expert.full_name, "expert", "请讲"),
        (4.0, deputy.full_name, "deputy", "谢谢"),
    ]
    assert [track["offset"] for track in merged["tracks"]] == [0.0, 2.5]


# --- the frames' fields --------------------------------------------------------------------------------------


def test_sdp_and_candidates_are_validated_and_size_limited() -> None:
    assert call_frames.sdp_field({"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}).startswith("v=0")
    for bad in ({"sdp": 42}, {"sdp": "hello"}, {"sdp": "v=0\r\n" + "a" * 12_000}, {"sdp": "v=0\x1b"}):
        with pytest.raises(FieldProblem):
            call_frames.sdp_field(bad)
    assert call_frames.candidate_field({"candidate": None}) == {"completed": True}
    good = {"candidate": "candidate:1 1 udp 2122 127.0.0.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    assert call_frames.candidate_field({"candidate": good})["sdpMid"] == "0"
    for bad_candidate in ("x", {"candidate": "c" * 600}, {"candidate": "c", "sdpMLineIndex": True}):
        with pytest.raises(FieldProblem):
            call_frames.candidate_field({"candidate": bad_candidate})


class _Socket:
    """Just what the call frames use of a chat consumer."""

    def __init__(self, link: object = None) -> None:
        self.call_link = link
        self.errors: list[tuple[str, dict[str, object]]] = []

    async def _domain_error(self, error: Exception, **fields: object) -> None:
        self.errors.append((getattr(error, "code", ""), fields))

    async def _error(self, code: str, message: str, **fields: object) -> None:
        self.errors.append((code, fields))


@pytest.mark.parametrize("frame_type", ["call.offer", "call.answer"])
async def test_a_media_frame_never_binds_the_socket_to_another_call(frame_type: str) -> None:
    class Bound:
        call_id = 7

    own = Bound()
    socket = _Socket(own)
    frame = {"type": frame_type, "call": 999, "feed": 1, "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}

    await call_frames.HANDLERS[frame_type](socket, frame)

    assert socket.errors == [("call_not_active", {"call": 999})]
    assert socket.call_link is own  # still its own call: the other one is not touched, its own media not lost


# --- a second expert invited into the call -------------------------------------------------------------------


@pytest.fixture
def colleague(bureau_b: Any) -> User:
    """An expert of another bureau (any expert may be invited: a consultation may move to any bureau)."""
    from tests.factories import ExpertProfileFactory

    return ExpertProfileFactory(user__username="colleague", user__full_name="孙晓峰", bureau=bureau_b).user


def _active_call(consultation: Consultation, deputy: User, expert: User) -> Call:
    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    for user in (deputy, expert):
        calls.media_grant(actor=user, consultation_id=consultation.pk, call_id=call.pk)
    return call


def test_the_expert_answering_invites_a_second_expert_who_reads_and_joins_while_invited(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, colleague: User
) -> None:
    from consult.desk import access
    from consult.models import Notification

    call = _active_call(consultation, deputy, expert)
    assert not access.can_read(colleague, consultation)
    assert not access.consultations_visible_to(colleague).filter(pk=consultation.pk).exists()
    with pytest.raises(NotAllowed):
        calls.invite_expert(actor=deputy, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)
    with pytest.raises(DomainError) as not_an_expert:
        calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=deputy.pk)
    assert (not_an_expert.value.code, not_an_expert.value.field) == ("invalid_input", "expert")

    calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)

    consultation.refresh_from_db()
    assert access.can_read(colleague, consultation)
    assert access.can_call(colleague, consultation)
    assert not access.can_post(colleague, consultation)  # speaks in the call, never writes in the thread
    assert access.consultations_visible_to(colleague).filter(pk=consultation.pk).count() == 1
    note = Notification.objects.get(user=colleague, kind="consultation.call_invite")
    assert note.title == f"您被邀请加入通话：{expert.full_name} · {consultation.topic}"  # worded in the site's language
    assert note.url == f"/desk/consultations/{consultation.pk}/"
    with pytest.raises(DomainError) as pending:  # no media before answering the invitation
        calls.media_grant(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)
    assert pending.value.code == "call_not_active"
    with pytest.raises(DomainError) as twice:
        calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)
    assert twice.value.code == "already_invited"

    calls.accept_call(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)
    grant = calls.media_grant(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)

    assert grant["room"] == call.room
    assert grant["filename"].startswith(f"user-{colleague.pk}-")  # recorded and transcribed like the others
    payload = calls.call_payload(call)
    assert [(p["user"], p["invited"], p["joined"]) for p in payload["participants"]] == [
        (deputy.pk, False, True),
        (expert.pk, False, True),
        (colleague.pk, True, True),
    ]
    assert lines(consultation)[-2:] == [
        f"{expert.full_name} 邀请 {colleague.full_name} 加入通话",
        f"{colleague.full_name} 加入了通话",
    ]
    with pytest.raises(NotAllowed):  # a guest never starts calls (one live call anyway) nor invites
        calls.invite_expert(actor=colleague, consultation_id=consultation.pk, call_id=call.pk, expert_id=expert.pk)


def test_a_three_party_call_goes_on_while_two_remain_and_the_guest_loses_the_consultation_after(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, colleague: User
) -> None:
    from consult.desk import access

    call = _active_call(consultation, deputy, expert)
    calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)
    calls.accept_call(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)

    calls.hang_up(actor=expert, consultation_id=consultation.pk, call_id=call.pk)  # three → two: it goes on
    call.refresh_from_db()
    assert call.state == CallState.ACTIVE
    assert lines(consultation)[-1] == f"{expert.full_name} 离开了通话"
    with pytest.raises(NotAllowed):
        calls.hang_up(actor=expert, consultation_id=consultation.pk, call_id=call.pk)  # gone already
    with pytest.raises(DomainError) as gone:  # out of the call: invites nobody into it
        calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)
    assert gone.value.code == "call_not_active"

    calls.hang_up(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)  # two → one: it ends
    call.refresh_from_db()
    assert call.state == CallState.ENDED
    consultation.refresh_from_db()
    assert not access.can_read(colleague, consultation)  # the invitation does not outlive the call
    assert not CallParticipant.objects.filter(call=call, left_at__isnull=True).exists()


def test_the_deputy_leaving_ends_a_three_party_call_and_a_declined_invitation_lapses(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, colleague: User
) -> None:
    from consult.desk import access

    call = _active_call(consultation, deputy, expert)
    calls.invite_expert(actor=expert, consultation_id=consultation.pk, call_id=call.pk, expert_id=colleague.pk)
    calls.decline_call(actor=colleague, consultation_id=consultation.pk, call_id=call.pk)
    consultation.refresh_from_db()
    assert not access.can_read(colleague, consultation)
    assert call.participants.get(user=colleague).left_at is not None
    call.refresh_from_db()
    assert call.state == CallState.ACTIVE  # declining the invitation leaves the call as it was

    calls.left(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)  # the deputy's socket closed
    call.refresh_from_db()
    assert call.state == CallState.ENDED


# --- the per-bureau recording switch ---------------------------------------------------------------------------


def test_a_bureau_that_turned_recording_off_gets_unrecorded_calls_and_everyone_is_told(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, settings: Any
) -> None:
    settings.MEDIA_ROOT = str(settings.VAR_DIR / "media-callscore-off")
    consultation.bureau.call_recording = False
    consultation.bureau.save(update_fields=["call_recording"])

    call = calls.start_call(actor=deputy, consultation_id=consultation.pk)
    calls.accept_call(actor=expert, consultation_id=consultation.pk, call_id=call.pk)
    grant = calls.media_grant(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)

    assert janus.rooms[call.room]["record"] is False
    assert call.rec_dir == ""
    assert grant["filename"] == ""  # the publisher asks Janus for no file either
    assert calls.call_payload(call)["recorded"] is False  # call.js shows "this call is not recorded"
    assert not (calls.Path(settings.MEDIA_ROOT) / "calls" / str(call.pk)).exists()
    assert calls.process_call(call.pk) == []


# --- retention -------------------------------------------------------------------------------------------------


def _recorded_call(consultation: Consultation, deputy: User, expert: User, ended_days_ago: int) -> Call:
    call = _active_call(consultation, deputy, expert)
    calls.hang_up(actor=deputy, consultation_id=consultation.pk, call_id=call.pk)
    Call.objects.filter(pk=call.pk).update(ended_at=timezone.now() - timedelta(days=ended_days_ago))
    call.refresh_from_db()
    folder = calls.media_dir(call)
    folder.mkdir(parents=True, exist_ok=True)
    for user in (deputy, expert):
        (folder / f"user-{user.pk}-1.mjr").write_bytes(b"MJR00002" + b"\0" * 64)
        (folder / f"user-{user.pk}-1.opus").write_bytes(b"OggS" + b"\0" * 64)
        CallTrack.objects.create(
            call=call,
            user=user,
            mjr=f"{call.rec_dir}/user-{user.pk}-1.mjr",
            audio=f"{call.rec_dir}/user-{user.pk}-1.opus",
            started_us=1,
        )
    return call


def test_recordings_past_the_retention_are_deleted_once_and_the_transcript_stays(
    janus: FakeJanus,
    consultation: Consultation,
    deputy: User,
    expert: User,
    settings: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CALL_RECORDING_RETENTION_DAYS = 30
    old = _recorded_call(consultation, deputy, expert, ended_days_ago=31)
    track = old.tracks.first()
    assert track is not None
    transcript = transcription.request_transcript(source_kind=calls.SOURCE_KIND, source_id=track.pk, audio="x")
    transcript.segments.create(index=0, start=0.0, end=1.0, text="您好", confidence=0.9)
    recent = _recorded_call(consultation, deputy, expert, ended_days_ago=29)

    assert calls.purge_recordings() == 1

    assert not calls.media_dir(old).exists()  # both speakers' .mjr and Opus gone
    assert sorted(p.name for p in calls.media_dir(recent).iterdir()) == sorted(  # the recent call's untouched
        f"user-{u.pk}-1.{ext}" for u in (deputy, expert) for ext in ("mjr", "opus")
    )
    old.refresh_from_db()
    assert old.recording_purged_at is not None
    assert list(old.tracks.values_list("audio", flat=True)) == ["", ""]
    assert [line["text"] for line in calls.call_transcript(old)["lines"]] == ["您好"]  # the text is kept
    assert "30 天" in lines(consultation)[-1]  # the thread says so
    said = len(lines(consultation))

    assert calls.purge_recordings() == 0  # idempotent: nothing twice, no second line
    assert len(lines(consultation)) == said

    settings.CALL_RECORDING_RETENTION_DAYS = 0  # keep forever
    assert calls.purge_recordings(now=timezone.now() + timedelta(days=10_000)) == 0
    assert calls.media_dir(recent).exists()
