"""What chat and proposals lend the consultation desk, registered from their ``AppConfig.ready``.

The desk lives in ``consult``, the lowest domain layer (``docs/architecture.md``), so it may not import
``chat`` or ``proposals``. Yet a consultation writes system lines into its chat thread, may link one of the
deputy's own proposals, and shows the expert the deputy's earlier proposals. Those apps register the
functions here, the way they register their live topics in ``consult.realtime.topics``; the desk calls them through
this module. Calling one that nobody registered is a setup error (the app is missing from INSTALLED_APPS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from consult.kernel.texts import Said
    from consult.models import Consultation, User


class SystemMessageWriter(Protocol):
    """``chat.services.post_system_message``: a platform line in the thread, inside the caller's transaction."""

    def __call__(self, *, consultation: Consultation, said: Said) -> object: ...


OwnProposalCheck = Callable[["User", int], bool]
"""Whether the proposal with this id is the user's own (the deputy links it to a consultation)."""

EarlierProposals = Callable[[int], Sequence[Any]]
"""The deputy's proposals (drafts left out), newest first, for the expert's history panel."""


@dataclass
class _Providers:
    system_message: SystemMessageWriter | None = None
    own_proposal: OwnProposalCheck | None = None
    earlier_proposals: EarlierProposals | None = None


_providers = _Providers()

_F = TypeVar("_F")


def register_chat(*, system_message: SystemMessageWriter) -> None:
    _providers.system_message = system_message


def register_proposals(*, own_proposal: OwnProposalCheck, earlier_proposals: EarlierProposals) -> None:
    _providers.own_proposal = own_proposal
    _providers.earlier_proposals = earlier_proposals


def _required(provider: _F | None, app: str) -> _F:
    if provider is None:
        raise ImproperlyConfigured(f"the consultation desk needs the {app} app (it registers itself in ready())")
    return provider


def post_system_message(consultation: Consultation, said: Said) -> None:
    _required(_providers.system_message, "chat")(consultation=consultation, said=said)


def is_own_proposal(user: User, proposal_id: int) -> bool:
    return _required(_providers.own_proposal, "proposals")(user, proposal_id)


def earlier_proposals(deputy_id: int) -> Sequence[Any]:
    return _required(_providers.earlier_proposals, "proposals")(deputy_id)
