"""Voice messages: upload checked by content, idempotent resend, playback with ranges to readers only, played
state, transcripts (live event, corrections, retries) and transcript search.

The transcription job itself is engineer J's (``transcription``); here its Celery message is never sent
(``dispatch`` is a no-op), and a finished job is written the way its worker does (``transcription.services``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from chat import voice
from chat.live_events import PLAYED, TRANSCRIPT
from chat.models import Message, MessageKind, VoicePlay
from consult.models import Bureau, Consultation, User
from search import indexing
from search.backends import reset_backend
from search.models import PendingChange
from tests.chat.audio import clip
from tests.chat.conftest import open_consultation
from transcription import services as transcription
from transcription.models import Transcript, TranscriptSegment, TranscriptStatus

ClientFor = Callable[[User], Client]
Published = list[tuple[str, Any, dict[str, Any]]]


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Transcription jobs are queued (rows) but never sent to a worker here."""
    sent: list[int] = []
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: sent.append(transcript_id))
    return sent


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    """Every chat event chat.voice publishes (name, consultation, fields), as sent after commit."""
    sent: Published = []
    monkeypatch.setattr(voice, "publish", lambda event, key, data: sent.append((event.name, key, dict(data))))
    return sent


@pytest.fixture
def search_dir(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The embedded engine on an empty directory of this test."""
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    settings.ELASTICSEARCH_URL = ""
    reset_backend()
    try:
        yield settings.SEARCH_INDEX_DIR
    finally:
        reset_backend()


@pytest.fixture
def active(deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    return open_consultation(deputy, expert, bureau_a)


def voice_url(consultation: Consultation, message_id: int | None = None, tail: str = "") -> str:
    base = f"/api/consultations/{consultation.pk}/voice/"
    return base if message_id is None else f"{base}{message_id}/{tail}"


def upload(
    client: Client, consultation: Consultation, content: bytes, client_id: str = "v-1", name: str = "a.webm"
) -> Any:
    data = {"client_id": client_id, "file": SimpleUploadedFile(name, content)}
    return client.post(voice_url(consultation), data)


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def nothing_stored(consultation: Consultation, media: Path) -> None:
    assert not Message.objects.filter(consultation=consultation, kind=MessageKind.VOICE).exists()
    assert stored_files(media) == []
    assert not Transcript.objects.exists()


# --- upload ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("container", "content_type"), [("webm", "audio/webm"), ("ogg", "audio/ogg"), ("mp4", "audio/mp4")]
)
def test_a_recording_is_stored_numbered_and_queued_for_its_transcript(
    client_for: ClientFor,
    deputy: User,
    active: Consultation,
    media: Path,
    no_worker: list[int],
    container: str,
    content_type: str,
) -> None:
    response = upload(client_for(deputy), active, clip(2.0, container), name=f"x.{container}")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["seq"], body["body"]) == ("voice", 3, "")
    assert abs(body["voice"]["duration"] - 2.0) < 0.1
    assert len(body["voice"]["levels"]) == 48
    assert max(body["voice"]["levels"]) == 1.0
    assert body["voice"]["content_type"] == content_type
    assert body["voice"]["played_by"] == []
    assert body["voice"]["transcript"]["status"] == "queued"
    assert body["voice"]["url"] == voice_url(active, body["id"])
    transcript = Transcript.objects.get()
    assert (transcript.source_kind, transcript.source_id) == ("chat.voice", body["id"])
    assert transcript.audio == Message.objects.get(pk=body["id"]).file.name
    assert no_worker == [transcript.pk]  # sent to the queue once, after the commit
    assert len(stored_files(media)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_resend_with_the_same_client_id_stores_nothing_more(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path
) -> None:
    client = client_for(deputy)
    content = clip(1.5)
    first = upload(client, active, content, client_id="same")
    again = upload(client, active, content, client_id="same")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.filter(kind=MessageKind.VOICE).count() == 1
    assert Transcript.objects.count() == 1
    assert len(stored_files(media)) == 1


def refused(response: Any, code: str, words: str) -> None:
    """400 with the code, the field ``file``, and a message naming the problem (in Chinese, the site's language)."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert words in body["message"]
    assert "file" in body["fields"]


@pytest.mark.django_db
def test_a_text_file_renamed_webm_is_not_audio(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path
) -> None:
    refused(upload(client_for(deputy), active, b"just some words\n" * 40), "not_audio", "不是语音录音")
    refused(upload(client_for(deputy), active, b"\x89PNG\r\n\x1a\n" + b"\x00" * 512), "not_audio", "WebM/Ogg")
    nothing_stored(active, media)


@pytest.mark.django_db
def test_a_video_or_a_wav_is_not_a_voice_recording(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path
) -> None:
    wav = io.BytesIO()
    import wave

    with wave.open(wav, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x01" * 16000)
    refused(upload(client_for(deputy), active, wav.getvalue(), name="a.wav"), "not_audio", "不是语音录音")
    nothing_stored(active, media)


@pytest.mark.django_db
def test_a_clip_over_the_limit_is_too_long(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path
) -> None:
    refused(upload(client_for(deputy), active, clip(61.0)), "too_long", "61 秒，最长 60 秒")
    nothing_stored(active, media)


@pytest.mark.django_db
def test_the_limit_is_a_setting(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path, settings: Any
) -> None:
    settings.CHAT_VOICE_MAX_SECONDS = 1
    refused(upload(client_for(deputy), active, clip(1.6)), "too_long", "最长 1 秒")
    settings.CHAT_VOICE_MAX_BYTES = 1000
    refused(upload(client_for(deputy), active, clip(0.8)), "too_large", "超过")
    nothing_stored(active, media)


@pytest.mark.django_db
@pytest.mark.parametrize("container", ["webm", "ogg", "mp4"])
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_truncated_upload_is_refused_as_cut_off(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path, container: str, kept: float
) -> None:
    content = clip(3.0, container)
    refused(upload(client_for(deputy), active, content[: int(len(content) * kept)]), "truncated", "录音不完整")
    nothing_stored(active, media)


@pytest.mark.django_db
def test_an_empty_upload_is_refused(client_for: ClientFor, deputy: User, active: Consultation, media: Path) -> None:
    response = upload(client_for(deputy), active, b"")
    assert response.status_code == 400
    nothing_stored(active, media)


@pytest.mark.django_db
def test_an_upload_to_a_consultation_the_user_is_not_in_is_404_and_stores_nothing(
    client_for: ClientFor, cosigner: User, expert: User, staff: User, active: Consultation, media: Path
) -> None:
    response = upload(client_for(cosigner), active, clip(1.0))  # another deputy
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    office = upload(client_for(staff), active, clip(1.0))  # reads, never writes
    assert (office.status_code, office.json()["code"]) == (403, "not_allowed")
    nothing_stored(active, media)


# --- playback --------------------------------------------------------------------------------------------------


@pytest.fixture
def posted(client_for: ClientFor, deputy: User, active: Consultation) -> Message:
    response = upload(client_for(deputy), active, clip(2.0))
    assert response.status_code == 201
    return Message.objects.get(pk=response.json()["id"])


@pytest.mark.django_db
def test_the_clip_is_served_whole_and_by_ranges_for_seeking(
    client_for: ClientFor, expert: User, active: Consultation, posted: Message
) -> None:
    client = client_for(expert)
    url = voice_url(active, posted.pk)
    data = posted.file.open("rb").read()
    size = len(data)

    whole = client.get(url)
    assert (whole.status_code, whole["Content-Type"], whole["Accept-Ranges"]) == (200, "audio/webm", "bytes")
    assert whole.content == data

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{size}"
    assert part["Accept-Ranges"] == "bytes"
    assert part.content == data[100:200]
    assert part["Content-Length"] == "100"

    open_end = client.get(url, HTTP_RANGE="bytes=1000-")
    assert (open_end.status_code, open_end["Content-Range"]) == (206, f"bytes 1000-{size - 1}/{size}")
    assert open_end.content == data[1000:]

    tail = client.get(url, HTTP_RANGE="bytes=-64")
    assert (tail.status_code, tail.content) == (206, data[-64:])

    past = client.get(url, HTTP_RANGE=f"bytes={size}-")
    assert (past.status_code, past["Content-Range"]) == (416, f"bytes */{size}")


@pytest.mark.django_db
def test_only_readers_of_the_consultation_hear_the_clip(
    client_for: ClientFor, cosigner: User, staff: User, outsider: User, active: Consultation, posted: Message
) -> None:
    url = voice_url(active, posted.pk)
    assert client_for(cosigner).get(url).status_code == 404  # another deputy
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(cosigner).get(url, HTTP_RANGE="bytes=0-9").status_code == 404
    assert Client().get(url).status_code in (401, 403)
    assert client_for(staff).get(url).status_code == 200  # the office reads every consultation
    other = open_consultation(cosigner, active.expert.user, active.bureau)
    assert client_for(cosigner).get(voice_url(other, posted.pk)).status_code == 404  # not through another thread


@pytest.mark.django_db
def test_a_withdrawn_clip_is_gone(client_for: ClientFor, expert: User, active: Consultation, posted: Message) -> None:
    Message.objects.filter(pk=posted.pk).update(deleted_at=posted.created_at)
    assert client_for(expert).get(voice_url(active, posted.pk)).status_code == 404


# --- played ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_other_side_playing_it_is_kept_and_told_once(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    staff: User,
    active: Consultation,
    posted: Message,
    published: Published,
) -> None:
    played = voice_url(active, posted.pk, "played/")
    assert client_for(deputy).post(played).status_code == 204  # one's own clip: nothing
    assert client_for(staff).post(played).status_code == 204  # the office reading: nothing
    assert published == []
    assert client_for(expert).post(played).status_code == 204
    assert client_for(expert).post(played).status_code == 204
    assert list(VoicePlay.objects.values_list("user_id", flat=True)) == [expert.pk]
    assert published == [(PLAYED.name, active.pk, {"message_id": posted.pk, "user": expert.pk})]
    history = client_for(deputy).get(f"/api/consultations/{active.pk}/messages/").json()["items"]
    assert history[-1]["voice"]["played_by"] == [expert.pk]


# --- transcripts -----------------------------------------------------------------------------------------------

SEGMENTS = [(0.0, 1.2, "您好，"), (1.2, 2.6, "我想咨询学区划分的问题。")]


def finish(message: Message, segments: list[tuple[float, float, str]] = SEGMENTS) -> Transcript:
    """What a worker's ``transcription.services.finish`` leaves: done, segments, text."""
    transcript = Transcript.objects.get(source_kind="chat.voice", source_id=message.pk)
    TranscriptSegment.objects.filter(transcript=transcript).delete()
    for index, (start, end, text) in enumerate(segments):
        TranscriptSegment.objects.create(
            transcript=transcript, index=index, start=start, end=end, text=text, confidence=0.9
        )
    text = "".join(text for _s, _e, text in segments)
    Transcript.objects.filter(pk=transcript.pk).update(status=TranscriptStatus.DONE, machine_text=text, text=text)
    transcript.refresh_from_db()
    voice.transcript_changed(transcript)
    return transcript


@pytest.mark.django_db(transaction=True)
def test_a_finished_transcript_is_published_to_the_thread_and_queued_for_search(
    client_for: ClientFor, expert: User, active: Consultation, posted: Message, published: Published
) -> None:
    transcript = finish(posted)

    name, key, fields = published[-1]
    assert (name, key) == (TRANSCRIPT.name, active.pk)
    assert fields["message_id"] == posted.pk
    assert (fields["status"], fields["text"]) == ("done", "您好，我想咨询学区划分的问题。")
    assert fields["segments"][1] == {"start": 1.2, "end": 2.6, "text": "我想咨询学区划分的问题。"}
    assert PendingChange.objects.filter(label="transcript", object_id=transcript.pk).exists()
    item = client_for(expert).get(f"/api/consultations/{active.pk}/messages/").json()["items"][-1]
    assert item["voice"]["transcript"]["text"] == "您好，我想咨询学区划分的问题。"


@pytest.mark.django_db(transaction=True)
def test_the_transcription_apps_hook_is_registered(posted: Message, published: Published) -> None:
    from transcription.sources import hooks_for

    hooks = hooks_for("chat.voice")
    assert hooks is not None
    assert hooks.on_change == voice.transcript_changed
    transcript = Transcript.objects.get()
    transcription.retry_transcript(transcript_id=transcript.pk)  # not failed: unchanged, no event


@pytest.mark.django_db(transaction=True)
def test_participants_and_the_office_correct_and_every_version_is_listed(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    staff: User,
    cosigner: User,
    active: Consultation,
    posted: Message,
) -> None:
    finish(posted)
    url = voice_url(active, posted.pk, "transcript/")
    assert client_for(expert).post(url, {"text": "您好，我想咨询学区划分问题。"}).status_code == 200
    assert client_for(staff).post(url, {"text": "您好，我想咨询学区划分的过渡问题。"}).status_code == 200
    assert client_for(cosigner).post(url, {"text": "x"}).status_code == 404
    assert client_for(deputy).post(url, {"text": "   "}).status_code == 400

    detail = client_for(deputy).get(url).json()
    assert detail["machine_text"] == "您好，我想咨询学区划分的问题。"
    assert detail["text"] == "您好，我想咨询学区划分的过渡问题。"
    assert detail["corrected"] is True
    assert [(v["number"], v["author_name"]) for v in detail["versions"]] == [(1, "陈志远"), (2, staff.full_name)]
    assert detail["can_correct"] is True
    assert detail["can_retry"] is False


@pytest.mark.django_db(transaction=True)
def test_a_transcript_not_yet_done_cannot_be_corrected(
    client_for: ClientFor, deputy: User, active: Consultation, posted: Message
) -> None:
    response = client_for(deputy).post(voice_url(active, posted.pk, "transcript/"), {"text": "早"})
    assert (response.status_code, response.json()["code"]) == (409, "transcript_not_ready")


@pytest.mark.django_db(transaction=True)
def test_only_the_office_retries_a_failed_transcription(
    client_for: ClientFor, deputy: User, staff: User, active: Consultation, posted: Message, no_worker: list[int]
) -> None:
    transcript = Transcript.objects.get()
    Transcript.objects.filter(pk=transcript.pk).update(status=TranscriptStatus.FAILED, error="engine crashed")
    url = voice_url(active, posted.pk, "transcript/retry/")
    assert client_for(deputy).post(url).status_code == 403
    assert client_for(deputy).get(voice_url(active, posted.pk, "transcript/")).json()["error"] == ""
    assert client_for(staff).get(voice_url(active, posted.pk, "transcript/")).json()["error"] == "engine crashed"
    answer = client_for(staff).post(url)
    assert (answer.status_code, answer.json()["status"]) == (200, "queued")
    assert no_worker == [transcript.pk, transcript.pk]
    again = client_for(staff).post(url)
    assert (again.status_code, again.json()["code"]) == (409, "transcript_not_failed")


# --- search ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_transcripts_are_found_by_a_word_by_staff_and_participants_only(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    staff: User,
    cosigner: User,
    active: Consultation,
    posted: Message,
    search_dir: Path,
) -> None:
    finish(posted)
    indexing.drain()

    def found(user: User, q: str) -> dict[str, Any]:
        response = client_for(user).get("/api/search/transcripts/", {"q": q})
        assert response.status_code == 200, response.content
        return dict(response.json())

    for user in (deputy, expert, staff):
        body = found(user, "学区划分")
        assert set(body) == {"count", "next", "previous", "degraded", "results"}
        assert body["count"] == 1, (user, body)
        hit = body["results"][0]
        assert (hit["message"], hit["consultation"], hit["start"]) == (posted.pk, active.pk, 1.2)
        assert hit["url"] == f"/desk/consultations/{active.pk}/#voice={posted.pk}&t=1.2"
        assert "<mark>" in hit["highlights"]["body"]
    assert found(cosigner, "学区划分")["count"] == 0
    assert found(staff, "公积金")["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_transcript_search_answers_from_the_database_when_the_engine_is_down(
    client_for: ClientFor,
    deputy: User,
    cosigner: User,
    active: Consultation,
    posted: Message,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from search.documents import SearchUnavailable

    class Down:
        def search(self, query: object) -> None:
            raise SearchUnavailable("down")

    monkeypatch.setattr("chat.transcript_search.get_backend", lambda: Down())
    finish(posted)
    body = client_for(deputy).get("/api/search/transcripts/", {"q": "学区"}).json()
    assert (body["count"], body["degraded"], body["results"][0]["start"]) == (1, True, 1.2)
    assert client_for(cosigner).get("/api/search/transcripts/", {"q": "学区"}).json()["count"] == 0


# --- bad input: a clear error naming the field, nothing changed ---------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "text", ["学区\x01划分", "学区\x00划分", 42, ["学区"]], ids=["control", "nul", "number", "list"]
)
def test_a_correction_with_control_characters_or_not_text_is_refused_and_changes_nothing(
    client_for: ClientFor, deputy: User, active: Consultation, posted: Message, text: object
) -> None:
    finish(posted)
    url = voice_url(active, posted.pk, "transcript/")

    response = client_for(deputy).post(url, {"text": text}, content_type="application/json")

    assert response.status_code == 400
    assert "text" in response.json()["fields"]
    assert not Transcript.objects.get(source_id=posted.pk).revisions.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"consultation": "²"}, "consultation"),  # a digit to str.isdigit(), not to int()
        ({"bureau": "9" * 30}, "bureau"),
        ({"q": "学\x00区"}, "q"),
        ({"page_size": "x"}, "page_size"),
        ({"page": "٣"}, "page"),
    ],
)
@pytest.mark.parametrize("engine", ["up", "down"])
def test_a_bad_transcript_or_message_search_is_a_400_naming_the_field(
    client_for: ClientFor,
    deputy: User,
    posted: Message,
    monkeypatch: pytest.MonkeyPatch,
    params: dict[str, str],
    field: str,
    engine: str,
) -> None:
    if engine == "down":
        from search.documents import SearchUnavailable

        class Down:
            def search(self, query: object) -> None:
                raise SearchUnavailable("down")

        monkeypatch.setattr("chat.transcript_search.get_backend", lambda: Down())
        monkeypatch.setattr("chat.searching.get_backend", lambda: Down())
    for url in ("/api/search/transcripts/", "/api/search/messages/"):
        response = client_for(deputy).get(url, params)

        assert response.status_code == 400, (url, response.content)
        assert field in response.json()["fields"], url
