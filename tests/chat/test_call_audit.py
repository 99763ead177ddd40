"""The audit of calls' recordings (``chat.RecordingAccess``): each way a recording is served — a track's audio, the
replay page, the transcript API — writes one row (who, which call and track, what, from which address); a refused
request (not a reader of the consultation, or a track whose recording was purged) serves nothing and writes none.
Real files under ``MEDIA_ROOT``, the real views through Django's test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from chat.models import Call, CallParticipant, CallState, CallTrack, RecordingAccess
from consult.models import Consultation, User
from tests.chat.audio import clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(consultation: Consultation, deputy: User, expert: User, settings: Any, tmp_path: Path) -> Call:
    settings.MEDIA_ROOT = tmp_path
    now = timezone.now()
    found = Call.objects.create(
        consultation=consultation,
        started_by=deputy,
        state=CallState.ENDED,
        answered_at=now,
        ended_at=now,
        janus_url="ws://127.0.0.1:8188",
        room=77,
    )
    found.rec_dir = f"calls/{found.pk}"
    found.save(update_fields=["rec_dir"])
    for user, role in ((deputy, "deputy"), (expert, "expert")):
        CallParticipant.objects.create(call=found, user=user, role=role, joined_at=now, left_at=now)
        name = f"{found.rec_dir}/user-{user.pk}-1.opus"
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(clip(1.0, "ogg"))
        CallTrack.objects.create(call=found, user=user, mjr=name.replace(".opus", ".mjr"), audio=name, started_us=1)
    return found


def client_of(user: User) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(user)
    return client


def urls(call: Call) -> dict[str, str]:
    track = call.tracks.order_by("pk").first()
    assert track is not None
    base = f"/desk/consultations/{call.consultation_id}/calls/{call.pk}"
    return {
        "audio": f"{base}/tracks/{track.pk}/",
        "replay": f"{base}/",
        "transcript": f"/api/consultations/{call.consultation_id}/calls/{call.pk}/transcript/",
    }


@pytest.mark.parametrize("kind", ["audio", "replay", "transcript"])
def test_each_access_to_a_recording_writes_one_row(call: Call, staff: User, kind: str) -> None:
    response = client_of(staff).get(urls(call)[kind])  # the office reads every consultation
    assert response.status_code == 200
    if kind == "audio":
        assert b"".join(response.streaming_content).startswith(b"OggS")  # type: ignore[attr-defined]

    rows = list(RecordingAccess.objects.values("user", "call", "track", "kind", "ip"))
    track = call.tracks.order_by("pk").first()
    assert track is not None
    assert rows == [
        {
            "user": staff.pk,
            "call": call.pk,
            "track": track.pk if kind == "audio" else None,
            "kind": kind,
            "ip": "203.0.113.7",
        }
    ]


@pytest.mark.parametrize("kind", ["audio", "replay", "transcript"])
def test_a_refused_access_serves_nothing_and_writes_nothing(call: Call, cosigner: User, kind: str) -> None:
    response = client_of(cosigner).get(urls(call)[kind])  # not a reader of this consultation

    assert response.status_code == 404
    assert not RecordingAccess.objects.exists()


def test_a_purged_tracks_audio_is_gone_and_not_audited(call: Call, deputy: User) -> None:
    call.tracks.update(audio="")

    assert client_of(deputy).get(urls(call)["audio"]).status_code == 404
    assert not RecordingAccess.objects.exists()


def test_staff_read_the_audit_in_the_admin_and_nobody_edits_it(call: Call, admin_user: User, deputy: User) -> None:
    client_of(deputy).get(urls(call)["replay"])
    row = RecordingAccess.objects.get()
    model_admin = admin.site._registry[RecordingAccess]

    page = client_of(admin_user).get("/admin/chat/recordingaccess/")

    assert page.status_code == 200
    assert deputy.full_name in page.content.decode()
    assert client_of(admin_user).get(f"/admin/chat/recordingaccess/{row.pk}/delete/").status_code == 403
    request = type("R", (), {"user": admin_user})()
    assert not model_admin.has_add_permission(request)  # type: ignore[arg-type]
    assert not model_admin.has_change_permission(request, row)  # type: ignore[arg-type]
