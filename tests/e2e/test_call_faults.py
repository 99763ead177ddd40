"""Faults of a live call between two Chromium processes through a real Janus, each browser with its own fake
microphone (``espeak-ng``): one side's browser SIGKILLed mid-call, and Janus SIGKILLed mid-call.

What must hold: the recording is kept up to the kill and becomes a track with audio; the other side is told at
once (its socket's close or its Janus session's death, never Janus's own 60 s session timeout); the call ends
cleanly (ended, everyone's ``left_at``, its Janus room gone); nothing stays "in call", and once Janus is back the
consultation starts a new call. The server-level side of the same faults: ``tests/chat/test_call_faults.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from chat import calls
from chat.janus import JanusAdmin
from chat.models import Call, CallParticipant, CallState, Message, MessageKind
from consult.models import Consultation, User
from tests.chat.test_call_faults import Media, janus, media  # noqa: F401 (fixtures)
from tests.conftest import LiveServer
from tests.e2e.test_call import CONNECTED_MS, RECEIVED, consultation, room_page, speakers  # noqa: F401 (fixtures)
from tests.e2e.test_proposal_journey import read_db
from tests.janus_support import call_server, wait_for_idle_database  # noqa: F401 (fixtures)
from transcription import services as transcription

pytestmark = pytest.mark.e2e

MJR_HEADER_BYTES = 120  # "MJR00002", its size and its JSON header: a file larger holds packets


@pytest.fixture(autouse=True)
def _janus_up(media: Media, transactional_db: None) -> Iterator[None]:  # noqa: F811
    if media.server.process.poll() is not None:  # a test that failed between its kill and its restart
        media.restart()
    yield
    wait_for_idle_database()


def in_call(speakers: dict[str, Browser], server: LiveServer, consultation: Consultation, password: str) -> Any:  # noqa: F811
    """The deputy calls, the expert answers, and each page receives the other's audio (packets and energy)."""
    room = f"/desk/consultations/{consultation.pk}/"
    deputy_page = room_page(speakers["deputy"], server, "deputy", password, room)
    expert_page = room_page(speakers["expert"], server, "expert", password, room)
    deputy_page.locator("[data-call-start]").click()
    expect(expert_page.locator("[data-call-incoming]")).to_be_visible(timeout=CONNECTED_MS)
    expert_page.locator("[data-call-accept]").click()
    for page in (deputy_page, expert_page):
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "active", timeout=CONNECTED_MS)
        page.wait_for_function(RECEIVED, arg=page.locator("[data-call]").element_handle(), timeout=CONNECTED_MS)
    call = read_db(lambda: Call.objects.get(consultation=consultation, state=CallState.ACTIVE))
    return deputy_page, expert_page, call


def recordings(settings: Any, call: Call) -> dict[int, Path]:
    folder = Path(settings.MEDIA_ROOT) / call.rec_dir
    return {int(path.name.split("-")[1]): path for path in folder.glob("user-*.mjr")}


def kill_browser(fake_microphone: Path) -> int:
    """SIGKILL the Chromium process that plays ``fake_microphone`` and every process under it at once (what an
    OOM kill or a crash of the whole browser does): nothing closes its sockets but the kernel. Returns how many."""
    flag = f"--use-file-for-fake-audio-capture={fake_microphone}".encode()
    parents: dict[int, int] = {}
    root = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if flag in cmdline.split(b"\0") and b"--type=" not in cmdline:
            root = int(entry.name)
    assert root is not None, f"no Chromium runs with {fake_microphone}"
    tree, grown = {root}, True
    while grown:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        grown = bool(below)
        tree |= below
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(tree)


def thread_lines(of: Consultation) -> list[str]:
    system = Message.objects.filter(consultation=of, kind=MessageKind.SYSTEM).order_by("seq")
    return list(system.values_list("body", flat=True))


def processed_tracks(call: Call) -> dict[int, float]:
    return {track.user_id: track.duration for track in calls.process_call(call.pk)}


def test_a_browser_killed_mid_call_keeps_its_recording_tells_the_other_side_and_ends_the_call(
    consultation: Consultation,  # noqa: F811
    media: Media,  # noqa: F811
    call_server: LiveServer,  # noqa: F811
    speakers: dict[str, Browser],  # noqa: F811
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    deputy: User,
    expert: User,
    password: str,
    tmp_path: Path,
) -> None:
    deputy_page, expert_page, call = in_call(speakers, call_server, consultation, password)
    files = recordings(settings, call)
    assert set(files) == {deputy.pk, expert.pk}, files

    killed_at = timezone.now()
    assert kill_browser(tmp_path / "expert" / "speech.wav") >= 1

    # The deputy is told by the server (the expert's socket closed: its Janus session destroyed, the call ended).
    expect(deputy_page.locator("[data-call]")).to_have_attribute("data-state", "ended", timeout=CONNECTED_MS)
    ended = read_db(lambda: Call.objects.get(pk=call.pk))
    assert ended.state == CallState.ENDED
    assert ended.ended_at is not None
    # Ended by the socket's close, in the expert's name, well inside the 60 s after which Janus would have
    # dropped the session on its own (the spec's bound, not a speed measurement).
    assert ended.ended_at - killed_at < timedelta(seconds=60)
    print(f"call ended {(ended.ended_at - killed_at).total_seconds():.2f} s after the kill")
    assert expert.full_name in read_db(lambda: thread_lines(consultation))[-1]
    left = read_db(lambda: list(CallParticipant.objects.filter(call=call).values_list("user_id", "left_at")))
    assert {user for user, at in left if at is not None} == {deputy.pk, expert.pk}, left
    admin = JanusAdmin(media.url, media.server.secret)
    for _ in range(100):  # destroyed after the commit: a bounded wait, never a timed assertion
        if not admin.room_exists(call.room):
            break
        deputy_page.wait_for_timeout(200)
    assert not admin.room_exists(call.room)
    assert read_db(lambda: Call.objects.filter(state__in=calls.LIVE).count()) == 0

    # The killed side's recording holds everything up to the kill: a track with audio after processing.
    assert all(path.stat().st_size > MJR_HEADER_BYTES for path in files.values()), files
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    durations = read_db(lambda: processed_tracks(call))
    assert set(durations) == {deputy.pk, expert.pk}
    assert all(seconds > 0 for seconds in durations.values()), durations
    print(f"tracks after a killed browser: {durations}")
    deputy_page.screenshot(path=tmp_path / "deputy-after-kill.png")
    del expert_page


def test_janus_killed_mid_call_tells_both_keeps_the_recordings_and_a_new_call_starts_once_it_is_back(
    consultation: Consultation,  # noqa: F811
    media: Media,  # noqa: F811
    call_server: LiveServer,  # noqa: F811
    speakers: dict[str, Browser],  # noqa: F811
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    deputy: User,
    expert: User,
    password: str,
    tmp_path: Path,
) -> None:
    deputy_page, expert_page, call = in_call(speakers, call_server, consultation, password)

    media.kill()

    pages: tuple[Page, Page] = (deputy_page, expert_page)
    for page in pages:
        expect(page.locator("[data-call]")).to_have_attribute("data-state", "ended", timeout=CONNECTED_MS)
        expect(page.locator("[data-chat-log]")).to_contain_text("媒体服务器", timeout=CONNECTED_MS)  # why, in zh
    ended = read_db(lambda: Call.objects.get(pk=call.pk))
    assert ended.state == CallState.ENDED
    assert read_db(lambda: Call.objects.filter(state__in=calls.LIVE).count()) == 0  # nothing stuck "in call"
    left = read_db(lambda: list(CallParticipant.objects.filter(call=call).values_list("left_at", flat=True)))
    assert all(at is not None for at in left), left
    assert sum("媒体服务器" in line for line in read_db(lambda: thread_lines(consultation))) == 1

    # What Janus had written before it died is kept, and processed into tracks with audio.
    files = recordings(settings, call)
    assert set(files) == {deputy.pk, expert.pk}, files
    assert all(path.stat().st_size > MJR_HEADER_BYTES for path in files.values()), files
    monkeypatch.setattr(transcription, "dispatch", lambda transcript_id, countdown=0: None)
    durations = read_db(lambda: processed_tracks(call))
    assert set(durations) == {deputy.pk, expert.pk}
    assert all(seconds > 0 for seconds in durations.values()), durations
    print(f"tracks after Janus was killed: {durations}")
    deputy_page.screenshot(path=tmp_path / "deputy-after-janus-kill.png")

    # Janus back: the same pages start a new call, which rings on the other side.
    media.restart()
    for _ in range(15):  # the server may remember the host as down for a few seconds (chat.calls.ANSWER_CACHE_S)
        expect(deputy_page.locator("[data-call-start]")).to_be_visible()
        deputy_page.locator("[data-call-start]").click()
        try:
            expect(expert_page.locator("[data-call-incoming]")).to_be_visible(timeout=6000)
            break
        except AssertionError:
            continue
    expect(expert_page.locator("[data-call-incoming]")).to_be_visible()
    deputy_page.locator("[data-call-hangup]").click()
    expect(expert_page.locator("[data-call]")).to_have_attribute("data-state", "missed", timeout=CONNECTED_MS)
