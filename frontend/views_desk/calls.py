"""Calls in the room: the call bar's configuration, the replay page of a call, and its tracks' audio.

Everything here follows the consultation's readers (``chat.calls.readable_call`` asks ``consult.desk.access``): a
call's recordings and transcript are served only to those who read the consultation; a call is joined only by its
writers, on the chat socket (``chat.call_frames``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from chat import call_transcripts, calls
from chat.models import CallTrack, RecordingAccessKind
from consult.desk import access
from consult.desk.selectors import experts_with_presence
from consult.embedded_janus import INSTALL_HINT
from consult.kernel.exceptions import NotFound
from frontend.views_desk.common import visible_consultation
from frontend.views_proposals.common import current_user


@login_required
def call_config(request: HttpRequest, pk: int) -> JsonResponse:
    user = current_user(request)
    consultation = visible_consultation(user, pk)
    if not access.can_read(user, consultation):
        raise Http404
    live = calls.live_call_of(pk)
    answering = consultation.expert is not None and consultation.expert.user_id == user.pk
    colleagues = experts_with_presence(consultation.bureau) if answering else []
    return JsonResponse(
        {
            "available": calls.media_available(),
            "install": INSTALL_HINT,
            "can_call": access.can_call(user, consultation),
            # whom the expert answering may invite into the call: their bureau's experts, those online first
            "invitable": [
                {"user": expert.user_id, "name": expert.user.get_full_name(), "online": online}
                for expert, online in sorted(colleagues, key=lambda row: not row[1])
                if expert.user_id != user.pk
            ],
            "ice_servers": settings.CALL_ICE_SERVERS,
            "live": calls.call_payload(live) if live else None,
        }
    )


@login_required
def replay(request: HttpRequest, pk: int, call_id: int) -> HttpResponse:
    user = current_user(request)
    try:
        call = calls.readable_call(user, pk, call_id)
    except NotFound as missing:
        raise Http404 from missing
    transcript = call_transcripts.transcript_detail(user, pk, call_id)
    calls.audit_access(viewer=user, call_id=call.pk, kind=RecordingAccessKind.REPLAY, address=_address(request))
    context = {"consultation": call.consultation, "call": call, "transcript": transcript}
    return render(request, "frontend/desk/call_replay.html", context)


@login_required
def track_audio(request: HttpRequest, pk: int, call_id: int, track_id: int) -> FileResponse:
    user = current_user(request)
    try:
        call = calls.readable_call(user, pk, call_id)
    except NotFound as missing:
        raise Http404 from missing
    track = CallTrack.objects.filter(pk=track_id, call=call).exclude(audio="").first()  # "": purged (retention)
    path = calls.media_dir(call) / track.audio.rsplit("/", 1)[-1] if track else None
    if track is None or path is None or not path.is_file():
        raise Http404
    address = _address(request)
    calls.audit_access(viewer=user, call_id=call.pk, kind=RecordingAccessKind.AUDIO, address=address, track_id=track.pk)
    return FileResponse(path.open("rb"), content_type="audio/ogg")


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))
