"""The one access policy of consultations (咨询): who sees a consultation and its messages, and who writes in it.

Every layer asks here: the desk API and pages (``consultations_visible_to``), the chat socket and the chat API
(``can_read``/``can_post``), the live topic of a consultation, and search (``search_acl`` for a message's document,
``search_keys`` for a searcher).

=============================  ==============  ==========
who                            reads           writes
=============================  ==============  ==========
the deputy who asked           yes             yes
the expert answering now       yes             yes
experts who answered before    yes (history)   no
  a transfer
the bureau's experts           while it waits  no
                               in their queue,
                               unless named
                               for a colleague
an expert named by the deputy  while it waits  no
  (点将, ``requested_expert``)  for them
an expert invited into a      while the call  no (speaks
  live call (second expert)    lasts           in the call)
the office (staff, admins)     every one       no
anyone else                    no              no
=============================  ==============  ==========

A second expert invited into a call by the expert answering (``chat.calls.invite_expert``) reads the consultation
while that call is ringing or under way and they have not left it (``call_guest``), and takes part in that call
(``can_call``) without writing in the thread; the invitation never outlives the call. Search keeps them out (a
guest reads the thread on the room page, never finds it by search).

A consultation addressed by name (点将) waits for that expert alone: while it is queued with a
``requested_expert``, the named expert reads it and the rest of the bureau does not (nor its search hits, nor its
live topic); one addressed to the bureau (no name) is the bureau's queue. Once taken, the rows above apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from consult.models import Consultation, ConsultationStatus, ConsultationTransfer
from consult.people.roles import Role
from consult.people.selectors import Viewer, bureau_id_of, is_office, role_of


def consultations_visible_to(user: Viewer) -> QuerySet[Consultation]:
    consultations = Consultation.objects.select_related("deputy", "bureau", "expert__user")
    if is_office(user):
        return consultations
    role = role_of(user)
    if role == Role.DEPUTY:
        return consultations.filter(deputy_id=user.pk)
    if role == Role.EXPERT:
        uid = int(user.pk or 0)
        handled = ConsultationTransfer.objects.filter(from_expert__user_id=uid).values("consultation_id")
        waiting = Q(status=ConsultationStatus.QUEUED)
        queue = waiting & Q(bureau_id=bureau_id_of(user), requested_expert__isnull=True)
        named = waiting & Q(requested_expert__user_id=uid)
        guest = Q(pk__in=_call_guests(uid).values("pk"))
        return consultations.filter(Q(expert__user_id=uid) | Q(pk__in=handled) | queue | named | guest)
    return consultations.none()


LIVE_CALL_STATES = ("ringing", "active")


def _call_guests(uid: int) -> QuerySet[Consultation]:
    """Consultations whose live call holds ``uid`` as an invited expert who has not left (``chat.CallParticipant``)."""
    return Consultation.objects.filter(
        calls__state__in=LIVE_CALL_STATES,
        calls__participants__user_id=uid,
        calls__participants__invited_by__isnull=False,
        calls__participants__left_at__isnull=True,
    )


def call_guest(user: Viewer, consultation: Consultation) -> bool:
    """An expert invited into this consultation's live call (the second expert), until they leave or it ends."""
    if not user.is_authenticated or role_of(user) != Role.EXPERT:
        return False
    return _call_guests(int(user.pk or 0)).filter(pk=consultation.pk).exists()


def can_call(user: Viewer, consultation: Consultation) -> bool:
    """Who takes part in the consultation's call: its writers and an invited second expert."""
    return can_post(user, consultation) or call_guest(user, consultation)


def can_post(user: Viewer, consultation: Consultation) -> bool:
    """The deputy and the expert answering now write (and type, and edit their own lines)."""
    if not user.is_authenticated:
        return False
    if user.pk == consultation.deputy_id:
        return True
    expert = consultation.expert
    return expert is not None and expert.user_id == user.pk


def _expert_profile_id(user: Viewer) -> int | None:
    profile = getattr(user, "expert_profile", None)  # RelatedObjectDoesNotExist is an AttributeError
    return int(profile.pk) if profile is not None else None


def can_read(user: Viewer, consultation: Consultation) -> bool:
    """``consultations_visible_to`` for one consultation already in hand."""
    if can_post(user, consultation) or is_office(user):
        return True
    if not user.is_authenticated or role_of(user) != Role.EXPERT:
        return False
    if consultation.status == ConsultationStatus.QUEUED:
        if consultation.requested_expert_id is not None:  # named (点将): only that expert, while it waits
            if consultation.requested_expert_id == _expert_profile_id(user):
                return True
        elif bureau_id_of(user) == consultation.bureau_id:
            return True  # the bureau's experts read what waits in their queue before one takes it
    if ConsultationTransfer.objects.filter(consultation=consultation, from_expert__user_id=user.pk).exists():
        return True
    return call_guest(user, consultation)


def search_acl(
    *,
    deputy_id: int,
    bureau_id: int,
    status: str,
    expert_user_id: int | None,
    earlier_expert_user_ids: Iterable[int],
    requested_expert_user_id: int | None = None,
) -> list[str]:
    """Who may find a consultation's messages: the readers of the table above, as acl keys."""
    keys = {"office", f"user:{deputy_id}"}
    if expert_user_id is not None:
        keys.add(f"user:{expert_user_id}")
    keys.update(f"user:{user_id}" for user_id in earlier_expert_user_ids)
    if status == ConsultationStatus.QUEUED and requested_expert_user_id is not None:
        keys.add(f"user:{requested_expert_user_id}")  # named (点将): that expert, not the bureau's queue
    elif status == ConsultationStatus.QUEUED:
        keys.add(f"bureau-queue:{bureau_id}")
    return sorted(keys)


def search_keys(user: Viewer) -> list[str]:
    """The acl keys a searcher holds (the other half of ``search_acl``)."""
    if is_office(user):
        return ["office"]
    if not user.is_authenticated:
        return []
    keys = [f"user:{user.pk}"]
    bureau_id = bureau_id_of(user)
    if role_of(user) == Role.EXPERT and bureau_id is not None:
        keys.append(f"bureau-queue:{bureau_id}")
    return keys
