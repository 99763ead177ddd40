"""Texts the platform writes (a thread's system lines, timeline details, notification titles), kept as a code
and parameters and rendered in the reader's language when read.

A text is declared once, in the app that writes it (``consult/desk/texts.py``, ``chat/texts.py``,
``proposals/texts.py``), with an English template marked for translation::

    STARTED = declare("desk.started", _("%(name)s started a consultation with %(bureau)s: %(topic)s"))
    said = STARTED(name=..., bureau=..., topic=...)    # a Said: code + params, stored as they are

``render(code, params)`` gives the text in the active language. A parameter is a plain value (a name, a date,
user-written text: never translated) or a label of a declared set of choices, written ``label("desk.outcome",
"solved")``, which renders as the choice's label in the reader's language, or a list of them written
``joined([...], SEPARATOR)``, rendered one by one and joined by a declared separator ("、" in Chinese, ", " in
English). Rows written before codes existed keep their stored wording (``render`` falls back to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Choices
from django.utils import translation
from django.utils.functional import Promise

_TEXTS: dict[str, Promise] = {}
_CHOICES: dict[str, type[Choices]] = {}


@dataclass(frozen=True)
class Said:
    """One platform text as stored: its code and its parameters (JSON values)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return render(self.code, self.params)

    def in_default_language(self) -> str:
        """The wording in the site's language, stored beside the code for search and old readers."""
        with translation.override(settings.LANGUAGE_CODE):
            return render(self.code, self.params)


@dataclass(frozen=True)
class PlatformText:
    code: str
    template: Promise

    def __call__(self, **params: Any) -> Said:
        return Said(self.code, {key: _stored(value) for key, value in params.items()})


def _stored(value: Any) -> Any:
    """A parameter as JSON: a nested ``Said`` becomes ``{"code", "params"}`` (rendered with the outer text)."""
    if isinstance(value, Said):
        return {"code": value.code, "params": value.params}
    return value


def declare(code: str, template: Promise) -> PlatformText:
    """Declare a text (once per code: a second declaration with another template is a setup error)."""
    if code in _TEXTS:
        raise ValueError(f"platform text {code!r} declared twice")
    _TEXTS[code] = template
    return PlatformText(code, template)


def declare_choices(name: str, choices: type[Choices]) -> type[Choices]:
    """Let parameters name a label of these choices (``label(name, value)``)."""
    _CHOICES[name] = choices
    return choices


def label(choices: str, value: str) -> dict[str, str]:
    """A parameter rendered as the label of ``value`` in the declared choices ``choices``."""
    if choices not in _CHOICES:
        raise ValueError(f"undeclared choices {choices!r}")
    return {"choices": choices, "value": value}


def joined(items: Iterable[Any], separator: PlatformText) -> dict[str, Any]:
    """A parameter rendered as ``items`` (plain values, ``Said``s, labels) joined by the declared ``separator``."""
    return {"joined": [_stored(item) for item in items], "by": separator.code}


def _value(value: Any) -> Any:
    if isinstance(value, Mapping) and "joined" in value:
        items = value["joined"] if isinstance(value["joined"], list) else []
        return render(str(value.get("by", "")), {}).join(str(_value(item)) for item in items)
    if isinstance(value, Mapping) and "choices" in value:
        choices = _CHOICES.get(str(value["choices"]))
        if choices is None:
            return value.get("value", "")
        try:
            return str(choices(value.get("value")).label)
        except ValueError:
            return value.get("value", "")
    if isinstance(value, Mapping) and "code" in value:
        return render(str(value["code"]), value.get("params") or {})
    return value


def render(code: str, params: Mapping[str, Any] | None = None, fallback: str = "") -> str:
    """The text in the active language; ``fallback`` (the stored wording) for an unknown code or broken params."""
    template = _TEXTS.get(code)
    if template is None:
        return fallback
    values = {key: _value(value) for key, value in (params or {}).items()}
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return fallback or str(template)


def declared() -> dict[str, Promise]:
    """Every declared text (the tests render each in both languages)."""
    return dict(_TEXTS)
