"""WebSocket routes. Apps add theirs here as they grow (chat: /ws/consultations/<id>/)."""

from django.urls import path

from chat.consumers import ChatConsumer
from consult.realtime.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/consultations/<int:consultation_id>/", ChatConsumer.as_asgi()),
]
