"""API routes of the chat (mounted under /api/ beside the desk's ``consultations/``)."""

from django.urls import URLPattern, path

from chat import api, call_api, voice_api
from chat.search_api import MessageSearchView

urlpatterns: list[URLPattern] = [
    path("consultations/<int:consultation_id>/messages/", api.MessagesView.as_view(), name="api-chat-messages"),
    path("consultations/<int:consultation_id>/files/", api.FilesView.as_view(), name="api-chat-files"),
    path(
        "consultations/<int:consultation_id>/files/<int:message_id>/",
        api.FileDownloadView.as_view(),
        name="api-chat-file",
    ),
    path("search/messages/", MessageSearchView.as_view(), name="api-search-messages"),
    path("consultations/<int:consultation_id>/voice/", voice_api.VoiceUploadView.as_view(), name="api-chat-voices"),
    path(
        "consultations/<int:consultation_id>/voice/<int:message_id>/",
        voice_api.VoicePlaybackView.as_view(),
        name="api-chat-voice",
    ),
    path(
        "consultations/<int:consultation_id>/voice/<int:message_id>/played/",
        voice_api.VoicePlayedView.as_view(),
        name="api-chat-voice-played",
    ),
    path(
        "consultations/<int:consultation_id>/voice/<int:message_id>/transcript/",
        voice_api.TranscriptView.as_view(),
        name="api-chat-transcript",
    ),
    path(
        "consultations/<int:consultation_id>/voice/<int:message_id>/transcript/retry/",
        voice_api.TranscriptRetryView.as_view(),
        name="api-chat-transcript-retry",
    ),
    path("search/transcripts/", voice_api.TranscriptSearchView.as_view(), name="api-search-transcripts"),
    path(
        "consultations/<int:consultation_id>/calls/<int:call_id>/transcript/",
        call_api.CallTranscriptView.as_view(),
        name="api-chat-call-transcript",
    ),
]
