"""Contact details out of published material (公开时隐去联系方式, docs/domain.md sections 4 and 8).

``strip_contact_details`` is the one masking function: the published wording of a reply is stored through
it (``services.reply.publish``), and whatever else shows a proposal to people who are no party to it
(its body, a timeline entry quoting a communication) passes its text through it too.

It removes, in half- or full-width digits:
- mobile numbers in every usual spelling: 13900001111, 139-0000-1111, 139 0000 1111, +86 139 0000 1111;
- landlines with or without the area code: 0571-88886666, (0571)88886666, 057188886666, 88886666, with an
  extension (转 123); hotlines 400-800-1234;
- ID card numbers (18 characters), email addresses, WeChat and QQ ids after their label;
- the name after 联系人 (the bureau's contact person).
A contact note in brackets after a name disappears with its brackets: "王建国代表（手机13900001111）" is
published as "王建国代表".
"""

from __future__ import annotations

import re

HIDDEN = "【已隐去】"

# Full-width digits and signs as their ASCII twins, one character for one, so matches keep their positions.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")

_SEP = r"[\s\-.]?"
_PHONE = re.compile(
    r"(?<![\dA-Za-z])(?:"
    rf"(?:\+?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"  # mobile
    rf"|(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}[2-9]\d{{2,3}}{_SEP}\d{{4}}(?:\s*(?:转|-|ext\.?)\s*\d{{1,6}})?"  # landline
    r"|[2-9]\d{6,7}(?!\s*(?:元|万|亿|千|百|人|户|个|平|米|公里|吨|辆|次|%|％))"  # local number, not an amount
    rf"|[48]00{_SEP}\d{{3}}{_SEP}\d{{4}}"  # hotline
    r"|\d{17}[\dXx]"  # ID card
    r")(?![\dA-Za-z])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_LABELLED_ID = re.compile(
    r"((?:微信号?|QQ号?|qq号?)\s*[:：]?\s*)[A-Za-z][A-Za-z0-9_-]{5,19}|((?:QQ|qq)号?\s*[:：]?\s*)\d{5,11}"
)
_CONTACT_PERSON = re.compile(r"(联系人\s*[:：]?\s*)[\u4e00-\u9fff·]{2,5}")
_CONTACT_LABEL = (
    r"(?:手机号码?|手机|联系电话|电话号码|电话|座机|固话|微信号?|QQ号?|邮箱|电子邮箱|Tel|TEL|tel|E-?mail|email)"
)
_BRACKETED = re.compile(
    rf"[（(]\s*(?:{_CONTACT_LABEL}\s*[:：]?\s*)?{HIDDEN}(?:\s*[,，、;；]\s*(?:{_CONTACT_LABEL}\s*[:：]?\s*)?{HIDDEN})*\s*[)）]"
)


def _mask(pattern: re.Pattern[str], text: str) -> str:
    """Replace every match of ``pattern`` in the half-width view of ``text`` in ``text`` itself."""
    view = text.translate(_HALF_WIDTH)
    pieces, last = [], 0
    for match in pattern.finditer(view):
        pieces += [text[last : match.start()], HIDDEN]
        last = match.end()
    return "".join([*pieces, text[last:]])


def strip_contact_details(text: str) -> str:
    """The text with every phone number, email address, messenger id and contact person hidden."""
    text = _EMAIL.sub(HIDDEN, text)
    text = _mask(_PHONE, text)
    text = _LABELLED_ID.sub(lambda m: (m.group(1) or m.group(2)) + HIDDEN, text)
    text = _CONTACT_PERSON.sub(lambda m: m.group(1) + HIDDEN, text)
    return _BRACKETED.sub("", text)


def carries_contact_details(text: str) -> bool:
    return strip_contact_details(text) != text
