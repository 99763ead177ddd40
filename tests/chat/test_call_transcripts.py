"""A call's transcript after the call: lines corrected like clips (who, versions, a cap), and found by search by
the consultation's readers only, with the acl following a transfer.

Each track is a real Opus file under ``MEDIA_ROOT`` and its transcript is made by the real job
(``transcription.jobs.run``: claim, read the audio from storage, record the segments, the source's hook after
commit). Only the speech model is a stand-in (``Scripted``): the random-weight checkpoints of
``transcription.testing`` hear noise, so no word could be searched for; the database, the job, the hooks, the search
outbox and the embedded search engine are real.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from chat import calls, voice
from chat.models import Call, CallParticipant, CallState, CallTrack, Message
from consult.desk import services as desk
from consult.models import Bureau, Consultation, User
from search import indexing
from search.backends import reset_backend
from tests.chat.audio import clip
from tests.factories import ExpertProfileFactory
from transcription import jobs
from transcription import services as transcription
from transcription.engines import Segment
from transcription.models import Transcript, TranscriptRevision

pytestmark = pytest.mark.django_db(transaction=True)

ClientFor = Callable[[User], Client]
Lines = Sequence[tuple[float, float, str]]

DEPUTY_SAID: Lines = [(0.0, 1.5, "您好，我想问学区划分的事。"), (4.0, 5.0, "谢谢。")]
EXPERT_SAID: Lines = [(0.5, 1.8, "学区划分方案下月公示。")]
EXPERT_OFFSET = 2.5  # the expert's track starts 2.5 s after the deputy's


class Scripted:
    """Stands in for the speech model only (see the module docstring): says these lines, whatever it hears."""

    name = "scripted"
    model_name = "scripted"

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def transcribe(self, audio: object, language: str = "zh", prompt: str | None = None) -> list[Segment]:
        assert Path(str(audio)).stat().st_size > 0  # the track's file was read from storage
        return [Segment(start, end, text, 0.9) for start, end, text in self.lines]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs are queued as rows and run here by ``jobs.run`` (no Celery message)."""
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)


@pytest.fixture
def search_dir(settings: Any, tmp_path: Path) -> Iterator[Path]:
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    settings.ELASTICSEARCH_URL = ""
    reset_backend()
    try:
        yield settings.SEARCH_INDEX_DIR
    finally:
        reset_backend()


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def transcribed_track(call: Call, user: User, media: Path, started_us: int, lines: Lines) -> CallTrack:
    name = f"{call.rec_dir}/user-{user.pk}-{started_us}.opus"
    (media / name).parent.mkdir(parents=True, exist_ok=True)
    (media / name).write_bytes(clip(2.0, "ogg"))
    track = CallTrack.objects.create(
        call=call, user=user, mjr=name.replace(".opus", ".mjr"), audio=name, started_us=started_us, duration=2.0
    )
    transcript = transcription.request_transcript(source_kind=calls.SOURCE_KIND, source_id=track.pk, audio=name)
    assert jobs.run(transcript.pk, engine=Scripted(lines), worker="test:1") == "done"
    return track


@pytest.fixture
def call(consultation: Consultation, deputy: User, expert: User, media: Path) -> Call:
    """An answered, ended call of the consultation, each speaker's track transcribed."""
    now = timezone.now()
    found = Call.objects.create(
        consultation=consultation,
        started_by=deputy,
        janus_url="ws://127.0.0.1:1",
        room=1,
        state=CallState.ENDED,
        answered_at=now,
        ended_at=now,
    )
    found.rec_dir = f"calls/{found.pk}"
    found.save(update_fields=["rec_dir"])
    CallParticipant.objects.create(call=found, user=deputy, role="deputy", joined_at=now, left_at=now)
    CallParticipant.objects.create(call=found, user=expert, role="expert", joined_at=now, left_at=now)
    transcribed_track(found, deputy, media, 1_000_000_000, DEPUTY_SAID)
    transcribed_track(found, expert, media, 1_000_000_000 + int(EXPERT_OFFSET * 1e6), EXPERT_SAID)
    return found


def api_url(call: Call) -> str:
    return f"/api/consultations/{call.consultation_id}/calls/{call.pk}/transcript/"


def line_of(detail: dict[str, Any], text_part: str) -> dict[str, Any]:
    return next(line for line in detail["lines"] if text_part in line["machine_text"])


def correct(client: Client, call: Call, line: dict[str, Any], text: object) -> Any:
    body = {"track": line["track"], "index": line["index"], "text": text}
    return client.post(api_url(call), body, content_type="application/json")


# --- corrections -----------------------------------------------------------------------------------------------


def test_the_merged_transcript_names_each_line_and_its_speaker(
    client_for: ClientFor, deputy: User, expert: User, call: Call
) -> None:
    detail = client_for(deputy).get(api_url(call)).json()

    assert [(line["start"], line["name"], line["role"], line["text"]) for line in detail["lines"]] == [
        (0.0, deputy.full_name, "deputy", "您好，我想问学区划分的事。"),
        (3.0, expert.full_name, "expert", "学区划分方案下月公示。"),
        (4.0, deputy.full_name, "deputy", "谢谢。"),
    ]
    assert all(line["versions"] == [] and not line["corrected"] for line in detail["lines"])
    assert detail["can_correct"] is True


def test_writers_and_the_office_correct_a_line_and_every_version_is_kept(
    client_for: ClientFor, deputy: User, expert: User, staff: User, call: Call
) -> None:
    line = line_of(client_for(deputy).get(api_url(call)).json(), "下月公示")

    assert correct(client_for(expert), call, line, "学区划分方案下个月公示。").status_code == 200
    answer = correct(client_for(staff), call, line, "学区划分方案将于下个月公示。")

    assert answer.status_code == 200, answer.content
    corrected = line_of(answer.json(), "下月公示")
    assert (corrected["text"], corrected["machine_text"], corrected["corrected"]) == (
        "学区划分方案将于下个月公示。",
        "学区划分方案下月公示。",
        True,
    )
    assert [(v["number"], v["author_name"]) for v in corrected["versions"]] == [
        (1, expert.full_name),
        (2, staff.full_name),
    ]
    key = (corrected["track"], corrected["index"])
    others = [line for line in answer.json()["lines"] if (line["track"], line["index"]) != key]
    assert [line["corrected"] for line in others] == [False, False]
    track_transcript = Transcript.objects.get(source_kind=calls.SOURCE_KIND, source_id=corrected["track"])
    assert track_transcript.text == "学区划分方案将于下个月公示。"
    assert track_transcript.machine_text == "学区划分方案下月公示。"


def test_the_same_text_again_adds_no_version(client_for: ClientFor, deputy: User, call: Call) -> None:
    line = line_of(client_for(deputy).get(api_url(call)).json(), "谢谢")

    assert correct(client_for(deputy), call, line, "谢谢。").status_code == 200

    assert not TranscriptRevision.objects.exists()


def test_a_reader_who_does_not_write_reads_the_versions_but_does_not_correct(
    client_for: ClientFor, deputy: User, expert: User, bureau_b: Bureau, cosigner: User, call: Call
) -> None:
    line = line_of(client_for(deputy).get(api_url(call)).json(), "谢谢")
    desk.transfer_consultation(
        actor=expert, consultation_id=call.consultation_id, note="交通问题", to_bureau_id=bureau_b.pk
    )

    refused = correct(client_for(expert), call, line, "谢谢您。")
    read = client_for(expert).get(api_url(call))

    assert refused.status_code == 403
    assert (read.status_code, read.json()["can_correct"]) == (200, False)
    assert correct(client_for(cosigner), call, line, "谢谢您。").status_code == 404
    assert client_for(cosigner).get(api_url(call)).status_code == 404
    assert not TranscriptRevision.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": "谢谢\x01"}, "text"),
        ({"text": 42}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "长" * 2001}, "text"),
        ({"index": 99}, "index"),
        ({"index": -1}, "index"),
        ({"index": True}, "index"),
        ({"track": 10**6}, "track"),
        ({"track": "x"}, "track"),
    ],
)
def test_a_bad_correction_is_a_400_naming_the_field_and_changes_nothing(
    client_for: ClientFor, deputy: User, call: Call, change: dict[str, object], field: str
) -> None:
    line = {**line_of(client_for(deputy).get(api_url(call)).json(), "谢谢")}
    body = {"track": line["track"], "index": line["index"], "text": "谢谢您。", **change}

    response = client_for(deputy).post(api_url(call), body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not TranscriptRevision.objects.exists()


def test_corrections_are_capped_per_track(client_for: ClientFor, settings: Any, deputy: User, call: Call) -> None:
    settings.TRANSCRIPT_MAX_CORRECTIONS = 2
    line = line_of(client_for(deputy).get(api_url(call)).json(), "谢谢")
    for text in ("谢谢您。", "非常感谢。"):
        assert correct(client_for(deputy), call, line, text).status_code == 200

    refused = correct(client_for(deputy), call, line, "多谢。")

    assert refused.status_code == 400
    assert (refused.json()["code"], list(refused.json()["fields"])) == ("too_many_corrections", ["text"])
    assert TranscriptRevision.objects.count() == 2


def test_a_voice_clips_corrections_are_capped_too(
    settings: Any, client_for: ClientFor, deputy: User, consultation: Consultation
) -> None:
    settings.TRANSCRIPT_MAX_CORRECTIONS = 1
    data = clip(1.5, "webm")
    message, _created = voice.post_voice_message(
        actor=deputy, consultation_id=consultation.pk, client_id="v-1", size=len(data), stream=io.BytesIO(data)
    )
    transcript = Transcript.objects.get(source_kind=voice.SOURCE_KIND, source_id=message.pk)
    assert jobs.run(transcript.pk, engine=Scripted([(0.0, 1.0, "学区")]), worker="test:1") == "done"
    url = f"/api/consultations/{consultation.pk}/voice/{message.pk}/transcript/"
    assert client_for(deputy).post(url, {"text": "学区划分"}).status_code == 200

    refused = client_for(deputy).post(url, {"text": "学区划分方案"})

    assert (refused.status_code, refused.json()["code"]) == (400, "too_many_corrections")
    assert "text" in refused.json()["fields"]
    assert Transcript.objects.get(pk=transcript.pk).text == "学区划分"


def test_the_replay_page_offers_corrections_to_writers_and_shows_versions(
    client_for: ClientFor, deputy: User, expert: User, staff: User, call: Call
) -> None:
    page = f"/desk/consultations/{call.consultation_id}/calls/{call.pk}/"
    line = line_of(client_for(deputy).get(api_url(call)).json(), "下月公示")
    correct(client_for(expert), call, line, "学区划分方案下个月公示。")

    html = client_for(deputy).get(page).content.decode()

    assert "data-correct-line" in html
    assert "学区划分方案下个月公示。" in html  # the text
    assert "学区划分方案下月公示。" in html  # and the machine's, among the versions
    assert f'data-track-id="{line["track"]}" data-index="{line["index"]}"' in html
    assert f'data-api="{api_url(call)}"' in html
    assert "data-correct-line" in client_for(staff).get(page).content.decode()


# --- search ----------------------------------------------------------------------------------------------------


def found(client: Client, q: str) -> dict[str, Any]:
    response = client.get("/api/search/transcripts/", {"q": q})
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_a_call_is_found_by_a_word_said_in_it_by_its_readers_only(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    staff: User,
    cosigner: User,
    outsider: User,
    call: Call,
    search_dir: Path,
) -> None:
    indexing.drain()

    for user in (deputy, expert, staff):
        body = found(client_for(user), "公示")
        assert body["count"] == 1, (user, body)
        hit = body["results"][0]
        assert (hit["kind"], hit["call"], hit["consultation"], hit["message"]) == (
            "call",
            call.pk,
            call.consultation_id,
            None,
        )
        assert (hit["sender_name"], hit["speaker_role"], hit["start"]) == (expert.full_name, "expert", 3.0)
        assert hit["url"] == f"/desk/consultations/{call.consultation_id}/calls/{call.pk}/#t=3"
        assert "<mark>" in hit["highlights"]["body"]
    for user in (cosigner, outsider):
        assert found(client_for(user), "公示")["count"] == 0
        assert found(client_for(user), "学区划分")["count"] == 0
    assert found(client_for(staff), "学区划分")["count"] == 2  # both speakers said it
    html = client_for(staff).get("/search/transcripts/", {"q": "公示"}).content.decode()
    assert f'data-call="{call.pk}"' in html
    assert f"/calls/{call.pk}/#t=3" in html


def test_a_corrected_line_is_found_by_its_new_words(
    client_for: ClientFor, deputy: User, staff: User, call: Call, search_dir: Path
) -> None:
    line = line_of(client_for(deputy).get(api_url(call)).json(), "谢谢")
    assert correct(client_for(deputy), call, line, "谢谢，请把公示链接发给我。").status_code == 200

    indexing.drain()

    hits = found(client_for(staff), "链接")["results"]
    assert [(hit["sender_name"], hit["start"]) for hit in hits] == [(deputy.full_name, 4.0)]


def test_a_transfer_changes_who_finds_the_call_and_the_clips(
    client_for: ClientFor,
    deputy: User,
    expert: User,
    bureau_b: Bureau,
    call: Call,
    search_dir: Path,
) -> None:
    colleague = ExpertProfileFactory(user__username="b-expert", user__full_name="孙明", bureau=bureau_b).user
    data = clip(1.5, "webm")
    message, _created = voice.post_voice_message(
        actor=deputy, consultation_id=call.consultation_id, client_id="v-1", size=len(data), stream=io.BytesIO(data)
    )
    clip_transcript = Transcript.objects.get(source_kind=voice.SOURCE_KIND, source_id=message.pk)
    jobs.run(clip_transcript.pk, engine=Scripted([(0.0, 1.0, "学区划分何时公示")]), worker="test:1")
    indexing.drain()
    assert found(client_for(colleague), "公示")["count"] == 0

    desk.transfer_consultation(
        actor=expert, consultation_id=call.consultation_id, note="转交通委", to_bureau_id=bureau_b.pk
    )
    indexing.drain()

    kinds = sorted(hit["kind"] for hit in found(client_for(colleague), "公示")["results"])
    assert kinds == ["call", "voice"]  # the queue of bureau B now reads the consultation
    assert found(client_for(expert), "公示")["count"] == 2  # the expert who answered before still does
    assert Message.objects.filter(pk=message.pk).exists()


def test_calls_are_found_from_the_database_when_the_engine_is_down(
    client_for: ClientFor, deputy: User, cosigner: User, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.documents import SearchUnavailable

    class Down:
        def search(self, query: object) -> None:
            raise SearchUnavailable("down")

    monkeypatch.setattr("chat.transcript_search.get_backend", lambda: Down())

    body = found(client_for(deputy), "公示")

    assert (body["count"], body["degraded"]) == (1, True)
    assert (body["results"][0]["kind"], body["results"][0]["call"], body["results"][0]["start"]) == (
        "call",
        call.pk,
        3.0,
    )
    assert found(client_for(cosigner), "公示")["count"] == 0
