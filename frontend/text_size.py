"""The reader's text size (长辈版 / large text): on the account when signed in, in a cookie when signed out.

The account is the truth for a signed-in reader; the cookie follows it, so the sign-in page after signing out
keeps the size, and a choice made on the sign-in page is carried onto the account at sign-in (views_account).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from consult.models import User

COOKIE = "consult_large_text"
COOKIE_MAX_AGE = 365 * 24 * 3600


def cookie_says_large(request: HttpRequest) -> bool:
    return request.COOKIES.get(COOKIE) == "1"


def is_large(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if isinstance(user, User):
        return user.large_text
    return cookie_says_large(request)


def remember(response: HttpResponse, *, on: bool) -> None:
    """The cookie for pages seen signed out (it holds no identity: a size only)."""
    if on:
        response.set_cookie(COOKIE, "1", max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
