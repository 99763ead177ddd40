"""Every kind of notification the code sends is declared in ``consult.notifications.kinds`` (so its title is worded
in the reader's language and it falls in the family people chose), found by reading the code: each call of
``notify(..., kind=...)`` and of the proposals' ``tell(people, proposal, kind, ...)``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from consult.notifications.kinds import known_kinds, render_title

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chat", "consult", "frontend", "proposals", "search", "transcription")
SENDERS = {"notify": None, "tell": 2}  # the function, and where its kind stands when given by position

# Kinds built from a level (``f"deadline.{level}"``): the levels each sweep writes (proposals.services.deadlines).
BUILT = {
    "deadline.": ("soon", "handler", "lead", "staff", "follow_up"),
    "publication.": ("soon", "overdue"),
}


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _kind_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "kind":
            return keyword.value
    position = SENDERS[_name(call)]
    return call.args[position] if position is not None and len(call.args) > position else None


def _kinds(node: ast.expr, where: str) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _kinds(node.body, where)
        yield from _kinds(node.orelse, where)
    elif isinstance(node, ast.JoinedStr):
        head = node.values[0]
        prefix = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else ""
        assert prefix in BUILT, f"{where}: a kind built at run time ({ast.unparse(node)}): list its values in BUILT"
        yield from (prefix + level for level in BUILT[prefix])
    else:
        raise AssertionError(f"{where}: the kind {ast.unparse(node)} is neither a string nor a known pattern")


def sent_kinds() -> dict[str, str]:
    """Each kind the code sends -> where (file:line)."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _name(node) in SENDERS:
                    kind = _kind_argument(node)
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if kind is None or (isinstance(kind, ast.Name) and kind.id == "kind"):
                        continue  # the sender itself passing its own argument on
                    for value in _kinds(kind, where):
                        found.setdefault(value, where)
    return found


def test_the_scan_finds_the_senders() -> None:
    sent = sent_kinds()
    assert {"consultation.call_invite", "consultation.rate", "reply.sent", "deadline.staff"} <= set(sent)


def test_every_kind_the_code_sends_is_declared() -> None:
    declared = set(known_kinds())
    missing = {kind: where for kind, where in sent_kinds().items() if kind not in declared}
    assert missing == {}


def test_each_declared_kind_is_worded_in_the_readers_language() -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        chinese = {kind: render_title(kind, {"subject": "x"}, "") for kind in known_kinds()}
    with translation.override("en"):
        english = {kind: render_title(kind, {"subject": "x"}, "") for kind in known_kinds()}
    assert all(chinese.values())
    assert all(english.values())
    assert [kind for kind in known_kinds() if chinese[kind] == english[kind]] == []
