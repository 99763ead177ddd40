"""Sign-in throttling: after too many failed attempts for one username from one address,
further attempts are refused for a while, whatever the password.

Counts live in the cache (Redis in every real deployment), so every Daphne process shares them.
Enforced in the authentication backend, so the login page, the admin login and any future
login endpoint are all covered.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

if TYPE_CHECKING:
    from consult.models import User


def _key(username: str, request: HttpRequest | None) -> str:
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    digest = hashlib.sha256(f"{username.casefold()}|{address}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def is_locked(username: str, request: HttpRequest | None) -> bool:
    return int(cache.get(_key(username, request), 0)) >= settings.LOGIN_MAX_FAILURES


def record_failure(username: str, request: HttpRequest | None) -> None:
    key = _key(username, request)
    cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def reset(username: str, request: HttpRequest | None) -> None:
    cache.delete(_key(username, request))


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, refusing usernames locked out by too many failures."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            return None
        if is_locked(username, request):
            raise PermissionDenied("too many failed sign-in attempts")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(username, request)
        else:
            reset(username, request)
        return user

    async def aauthenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        # Django's async path does not go through authenticate(); route it there so it is throttled too.
        return await sync_to_async(self.authenticate)(request, username=username, password=password, **kwargs)
