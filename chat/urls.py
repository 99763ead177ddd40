"""API routes of the chat (mounted under /api/ beside the desk's ``consultations/``)."""

from django.urls import URLPattern, path

from chat import api
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
]
