"""The rows a batch of demo proposals makes, written with ``bulk_create`` in the order their keys need.

Seeding thousands of proposals one service call at a time would take minutes and stamp every row
with the same minute; instead the story builds the very rows the services would have written, with
their real moments, and this module writes them in a few statements per table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import models

from proposals.models import (
    Assignment,
    CoHandlerOpinion,
    Communication,
    CoSigner,
    ExtensionRequest,
    Feedback,
    Proposal,
    ProposalEvent,
    Reply,
    ReplySignoff,
)

BATCH = 1000
WishedCoBureau = Proposal.wished_co_bureaus.through
TIMESTAMPED = (
    Proposal,
    CoSigner,
    Communication,
    CoHandlerOpinion,
    ExtensionRequest,
    ReplySignoff,
    Feedback,
    ProposalEvent,
)


@contextmanager
def given_timestamps() -> Iterator[None]:
    """Let ``auto_now``/``auto_now_add`` fields keep the moments the story gave them, while seeding.

    ``bulk_create`` would otherwise stamp every row with the time of the insert. The flags are put
    back on exit; seeding runs in a management command or a test, with nothing else saving meanwhile.
    """
    switched = [
        (f, f.auto_now, f.auto_now_add)
        for model in TIMESTAMPED
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    try:
        for f, _now, _add in switched:
            f.auto_now = f.auto_now_add = False
        yield
    finally:
        for f, auto_now, auto_now_add in switched:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# What only the timeline and the handling pages read: a lean corpus (the list benchmark) leaves them out.
DETAIL = frozenset({"wished", "communications", "opinions", "extensions", "signoffs", "feedback", "events"})


@dataclass
class Rows:
    """Unsaved rows, in the order they must be written (a row's foreign keys point to earlier lists)."""

    detail: bool = True

    proposals: list[Proposal] = field(default_factory=list)
    merged: list[Proposal] = field(default_factory=list)  # point at a proposal of ``proposals``
    wished: list[Any] = field(default_factory=list)
    cosigners: list[CoSigner] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    communications: list[Communication] = field(default_factory=list)
    opinions: list[CoHandlerOpinion] = field(default_factory=list)
    extensions: list[ExtensionRequest] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    signoffs: list[ReplySignoff] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    events: list[ProposalEvent] = field(default_factory=list)

    def flush(self, totals: dict[str, int]) -> None:
        """Write everything (``given_timestamps`` must be on) and add the counts to ``totals``."""
        for f in fields(self):
            if f.name == "detail":
                continue
            objs: Sequence[models.Model] = getattr(self, f.name)
            if objs and (self.detail or f.name not in DETAIL):
                type(objs[0])._default_manager.bulk_create(objs, batch_size=BATCH)
                totals[f.name] = totals.get(f.name, 0) + len(objs)
            setattr(self, f.name, [])
