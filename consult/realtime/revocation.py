"""Ending a user's open sockets when their session ends (``consult.realtime.socket_guard`` is the socket's side).

``session.revoked`` goes to the group ``user-sockets.<user id>`` on the channel layer (Redis pub/sub: every
Daphne process), after the transaction commits:

- ``user_logged_out``: with the session key that logged out; that session's sockets close at once, the user's
  other sessions (other browsers) are untouched.
- a saved ``User`` whose ``is_active`` or password changed (admin, ORM ``save()``, ``set_password``): every
  socket of the user re-checks its session the way Django checks a request (``django.contrib.auth.get_user``:
  the session exists and has not expired, the user is active, the session's password hash matches) and closes
  with ``4401`` when it fails. The session that changed its own password (``update_session_auth_hash``) stays.
"""

from __future__ import annotations

import logging
from datetime import datetime
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models.signals import post_init, post_save

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user-sockets.{user_id}"


def _store(session_key: str | None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def session_user_id(session_key: str | None) -> int | None:
    """The user a session signs in now, checked as Django checks a request; ``None`` when it signs in nobody."""
    if not session_key:
        return None
    user = get_user(SimpleNamespace(session=_store(session_key)))  # type: ignore[arg-type]
    return int(user.pk) if user.is_authenticated else None


def session_expiry(session_key: str | None) -> datetime | None:
    """When the session expires: the stored expiry of a database session, else the store's own answer."""
    if not session_key:
        return None
    store = _store(session_key)
    model = getattr(store, "get_model_class", None)
    if model is not None:
        found: datetime | None = (
            model().objects.filter(session_key=session_key).values_list("expire_date", flat=True).first()
        )
        return found
    return store.get_expiry_date()


def revoke(user_id: int, session_key: str | None = None) -> None:
    """After commit, tell every socket of the user (on every process) to re-check, or close ``session_key``'s."""
    message = {"type": "session.revoked", "session_key": session_key or ""}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), message)
        except Exception:  # the periodic re-check of every socket still closes them
            logger.exception("session.revoked for user %s could not be sent", user_id)

    transaction.on_commit(send)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None or user.pk is None:
        return
    session = getattr(request, "session", None)
    revoke(int(user.pk), getattr(session, "session_key", None))


def _state(instance: Any) -> tuple[Any, Any]:
    # From __dict__: a deferred field (``only()``) must not cost a query per loaded user.
    return instance.__dict__.get("is_active"), instance.__dict__.get("password")


def _remember(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._revocation_state = _state(instance)


def _saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_revocation_state", (None, None))
    now = _state(instance)
    instance._revocation_state = now
    if created:
        return
    changed = any(old is not None and new is not None and old != new for old, new in zip(before, now, strict=True))
    if changed:
        revoke(int(instance.pk))


def connect_signals() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user_logged_out.connect(_logged_out, dispatch_uid="consult.realtime.revocation.logged_out")
    post_init.connect(_remember, sender=user_model, dispatch_uid="consult.realtime.revocation.remember")
    post_save.connect(_saved, sender=user_model, dispatch_uid="consult.realtime.revocation.saved")
