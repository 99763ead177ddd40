"""Live events of the consultation desk (``/ws/live/``)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from consult.realtime.catalogue import declare


class ConsultationChanged(TypedDict):
    id: NotRequired[int]  # on the user topic (the deputy's list); the consultation topic's key is its id
    action: str
    status: str
    expert: int | None


class ConsultationAssigned(TypedDict):
    id: int
    topic: str


class QueueChanged(TypedDict):
    id: NotRequired[int]
    action: str


class PresenceChanged(TypedDict):
    expert: int
    status: str


CONSULTATION_CHANGED = declare(
    "consultation.changed",
    socket="live",
    topic="consultation",
    payload=ConsultationChanged,
    doc="a consultation was taken, transferred, ended or rated",
)
MY_CONSULTATION_CHANGED = declare(
    "consultation.changed",
    socket="live",
    topic="user",
    payload=ConsultationChanged,
    doc="one of the deputy's consultations changed",
)
CONSULTATION_ASSIGNED = declare(
    "consultation.assigned",
    socket="live",
    topic="user",
    payload=ConsultationAssigned,
    doc="a waiting consultation was routed to this expert",
)
QUEUE_CHANGED = declare(
    "queue.changed", socket="live", topic="bureau", payload=QueueChanged, doc="the bureau's queue changed"
)
PRESENCE_CHANGED = declare(
    "presence.changed",
    socket="live",
    topic="bureau",
    payload=PresenceChanged,
    doc="an expert of the bureau came online, went away or dropped",
)
