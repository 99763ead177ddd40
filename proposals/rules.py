"""The rules a deployment may change (docs/domain.md section 4), with the statutory defaults.

Set ``PROPOSAL_RULES`` in the environment as JSON to change any of them, e.g.
``PROPOSAL_RULES='{"reply_months": 2, "communication_required": true}'``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Rules:
    reply_months: int = 3  # reply within 3 months of assignment
    max_extension_months: int = 6  # extensions never go past 6 months from assignment
    co_opinion_months: int = 1  # co-handlers give their opinion to the lead within 1 month
    return_window_working_days: int = 7  # a bureau may return an assignment within 7 working days
    rehandling_months: int = 1  # 不满意 reopens handling with 1 month to reply again
    cosign_days: int = 7  # invited co-signers have 7 days to sign
    communication_required: bool = False  # "no reply before at least one recorded communication"
    publication_working_days: int = 20  # publish within 20 working days of the reply
    due_soon_working_days: int = 5  # "due soon" means within 5 working days
    staff_escalation_working_days: int = 5  # overdue this long: the office is reminded too
    follow_up_reminder_days: int = 30  # B/C follow-up: remind the lead bureau every 30 days
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_max_count: int = 10
    body_max_chars: int = 20000


def current_rules() -> Rules:
    overrides: dict[str, Any] = dict(getattr(settings, "PROPOSAL_RULES", {}) or {})
    known = {f.name for f in fields(Rules)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown proposal rules: {sorted(unknown)}")
    return replace(Rules(), **overrides)
