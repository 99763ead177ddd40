"""Chinese first: every page is in Simplified Chinese unless the user switched language.

Django's LocaleMiddleware would follow the browser's Accept-Language, so an English-language
browser would land on the English UI; here only the explicit choice (the language cookie set
by the switch in the footer) changes the language.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


def chosen_language(request: HttpRequest) -> str:
    """The language of the switch's cookie, else Chinese. (Error pages use it too, whatever ran before them.)"""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    try:
        return translation.get_supported_language_variant(chosen) if chosen else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()
