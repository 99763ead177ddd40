"""How often a password reset may be asked: per client address and per email, counted in the cache (Redis).

Bounded work per client: a reset mails someone, so one address cannot make the site mail an inbox without end.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 3600


def _count(key: str) -> int:
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        return 1


def _key(kind: str, value: str) -> str:
    return f"password-reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def allow(request: HttpRequest, email: str) -> bool:
    """Counts this ask; False once the address or the email is over ``PASSWORD_RESET_MAX_PER_HOUR``."""
    limit: int = settings.PASSWORD_RESET_MAX_PER_HOUR
    by_address = _count(_key("address", request.META.get("REMOTE_ADDR", "")))
    by_email = _count(_key("email", email.casefold()))
    return by_address <= limit and by_email <= limit
