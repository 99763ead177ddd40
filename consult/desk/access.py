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
                               in their queue
the office (staff, admins)     every one       no
anyone else                    no              no
=============================  ==============  ==========
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from consult.models import Consultation, ConsultationStatus, ConsultationTransfer
from consult.roles import Role
from consult.selectors import Viewer, bureau_id_of, is_office, role_of


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
        queue = Q(bureau_id=bureau_id_of(user), status=ConsultationStatus.QUEUED)
        return consultations.filter(Q(expert__user_id=uid) | Q(pk__in=handled) | queue)
    return consultations.none()


def can_post(user: Viewer, consultation: Consultation) -> bool:
    """The deputy and the expert answering now write (and type, and edit their own lines)."""
    if not user.is_authenticated:
        return False
    if user.pk == consultation.deputy_id:
        return True
    expert = consultation.expert
    return expert is not None and expert.user_id == user.pk


def can_read(user: Viewer, consultation: Consultation) -> bool:
    """``consultations_visible_to`` for one consultation already in hand."""
    if can_post(user, consultation) or is_office(user):
        return True
    if not user.is_authenticated or role_of(user) != Role.EXPERT:
        return False
    if consultation.status == ConsultationStatus.QUEUED and bureau_id_of(user) == consultation.bureau_id:
        return True  # the bureau's experts read what waits in their queue before one takes it
    return ConsultationTransfer.objects.filter(consultation=consultation, from_expert__user_id=user.pk).exists()


def search_acl(
    *, deputy_id: int, bureau_id: int, status: str, expert_user_id: int | None, earlier_expert_user_ids: Iterable[int]
) -> list[str]:
    """Who may find a consultation's messages: the readers of the table above, as acl keys."""
    keys = {"office", f"user:{deputy_id}"}
    if expert_user_id is not None:
        keys.add(f"user:{expert_user_id}")
    keys.update(f"user:{user_id}" for user_id in earlier_expert_user_ids)
    if status == ConsultationStatus.QUEUED:
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
