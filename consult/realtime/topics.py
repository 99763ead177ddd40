"""Live events: who may listen to what, and publishing after commit.

A client on ``/ws/live/`` is always subscribed to its own ``user.<id>`` group and may
subscribe to more topics (``bureau.<id>`` now; proposals and consultations register
theirs). Each topic has one check, registered here, deciding who may subscribe. Group
names are never secrets: knowing one grants nothing without passing its check.

Events themselves are declared in the apps' ``live_events`` modules and published through
``consult.realtime.catalogue.publish`` (after commit), the one publishing path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from consult.people.selectors import bureau_id_of, is_office
from consult.realtime.catalogue import PROTOCOL_VERSION, group_of

__all__ = ["PROTOCOL_VERSION", "can_subscribe", "group_name", "known_topics", "register_topic"]

if TYPE_CHECKING:
    from consult.models import User

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

TopicCheck = Callable[["User", str], bool]
_topic_checks: dict[str, TopicCheck] = {}


def register_topic(topic: str, check: TopicCheck) -> None:
    """Declare a topic and the one function that decides who may subscribe to it."""
    _topic_checks[topic] = check


def known_topics() -> frozenset[str]:
    return frozenset(_topic_checks)


def group_name(topic: str, key: str) -> str:
    return group_of("live", topic, key)


def can_subscribe(user: User, topic: str, key: str) -> bool:
    check = _topic_checks.get(topic)
    if check is None or not KEY_PATTERN.match(key) or not user.is_authenticated:
        return False
    return check(user, key)


def _own_user(user: User, key: str) -> bool:
    return str(user.pk) == key


def _bureau_member_or_office(user: User, key: str) -> bool:
    if is_office(user):
        return True
    bureau_id = bureau_id_of(user)
    return bureau_id is not None and str(bureau_id) == key


def _consultation_reader(user: User, key: str) -> bool:
    from consult.desk.access import can_read
    from consult.models import Consultation

    consultation = Consultation.objects.select_related("expert").filter(pk=int(key)).first() if key.isdigit() else None
    return consultation is not None and can_read(user, consultation)


def register_builtin_topics() -> None:
    register_topic("user", _own_user)
    register_topic("bureau", _bureau_member_or_office)
    register_topic("consultation", _consultation_reader)
