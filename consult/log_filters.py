"""Logging filters named in ``settings.LOGGING`` (no models here: logging is configured before the apps load).

``ExplainRefusedRequest`` turns Django's report of a refused request — an ERROR with a traceback on
``django.security.DisallowedHost`` or ``django.security.RequestDataTooBig`` — into one WARNING line that says
what was refused and which setting allows it. The client's mistake is no server error.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port


class ExplainRefusedRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if record.name.endswith(".DisallowedHost"):
            record.msg, record.args = disallowed_host_message(request)
        elif record.name.endswith(".RequestDataTooBig"):
            record.msg = "Refused a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (%s bytes): %s %s"
            record.args = (
                settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
                getattr(request, "method", "?"),
                getattr(request, "path", "?"),
            )
        else:
            return True
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def disallowed_host_message(request: object) -> tuple[str, tuple[object, ...]]:
    # What get_host() refused (the private method is the one Django reads it with).
    raw_host = request._get_raw_host() if isinstance(request, HttpRequest) else ""  # type: ignore[attr-defined]
    domain = split_domain_port(raw_host)[0] or raw_host
    allowed = list(settings.ALLOWED_HOSTS)
    source = "the ALLOWED_HOSTS environment variable" if "ALLOWED_HOSTS" in os.environ else "the default"
    return (
        "Refused a request for host %r: it is not in ALLOWED_HOSTS (%s, from %s). To serve it, set the "
        "ALLOWED_HOSTS environment variable (comma-separated) and restart, e.g. ALLOWED_HOSTS=%s",
        (raw_host, ",".join(allowed), source, ",".join([*allowed, domain or "<host>"])),
    )
