"""WebSocket routes. Apps add theirs here as they grow (chat: /ws/consultations/<id>/)."""

from django.urls import path

from consult.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
