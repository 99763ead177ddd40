"""Live events of the proposal cycle (``/ws/live/``, topic ``proposal.<id>``)."""

from __future__ import annotations

from typing import TypedDict

from consult.realtime.catalogue import declare


class ProposalChanged(TypedDict):
    action: str
    status: str
    event: int  # the timeline entry's id


PROPOSAL_CHANGED = declare(
    "proposal.changed",
    socket="live",
    topic="proposal",
    payload=ProposalChanged,
    doc="something happened on the proposal's timeline (re-read it)",
)
