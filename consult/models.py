"""The consult app's models, defined in their rooms (people, notifications, desk) and registered here."""

# The consultation desk's models live in their own module; importing them here registers them with the app.
from consult.desk.models import (
    Consultation,
    ConsultationPeriod,
    ConsultationStatus,
    ConsultationTransfer,
    ExpertPresence,
    Outcome,
    PresenceStatus,
)
from consult.notifications.models import Notification, NotificationPreference
from consult.people.models import (
    ApiToken,
    Bureau,
    Department,
    DeputyContact,
    DeputyProfile,
    ExpertProfile,
    HandlerProfile,
    User,
)

__all__ = [
    "ApiToken",
    "Bureau",
    "Consultation",
    "ConsultationPeriod",
    "ConsultationStatus",
    "ConsultationTransfer",
    "Department",
    "DeputyContact",
    "DeputyProfile",
    "ExpertPresence",
    "ExpertProfile",
    "HandlerProfile",
    "Notification",
    "NotificationPreference",
    "Outcome",
    "PresenceStatus",
    "User",
]
