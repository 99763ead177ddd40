"""Checks on uploaded files (proposal attachments, chat files): size and type, by name *and* by content.

Neutral ground: chat and proposals both check uploads here, so neither imports the other for it."""

from __future__ import annotations

from pathlib import PurePath
from typing import IO

from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput

# extension -> (content type, accepted leading bytes)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".txt": ("text/plain", ()),
}


def check_upload(name: str, size: int, stream: IO[bytes], *, max_bytes: int) -> str:
    """Return the content type to store, or raise InvalidInput naming the ``file`` field."""
    extension = PurePath(name).suffix.lower()
    if extension not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        raise InvalidInput(_("file type not allowed; allowed: %(types)s") % {"types": allowed}, field="file")
    if size <= 0:
        raise InvalidInput(_("the file is empty"), field="file")
    if size > max_bytes:
        raise InvalidInput(_("the file is larger than %(mb).0f MB") % {"mb": max_bytes / 1024 / 1024}, field="file")
    content_type, signatures = ALLOWED_TYPES[extension]
    head = stream.read(16)
    stream.seek(0)
    if signatures and not any(head.startswith(signature) for signature in signatures):
        raise InvalidInput(_("the file's content does not match its type"), field="file")
    if extension == ".txt" and b"\x00" in head:
        raise InvalidInput(_("the file's content does not match its type"), field="file")
    return content_type
