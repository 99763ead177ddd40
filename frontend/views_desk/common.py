"""What the desk pages share: the consultation a user may see, and how much of each thread they have not read."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django_stubs_ext import WithAnnotations

from chat.models import MessageKind, ReadMarker
from consult.desk.access import consultations_visible_to
from consult.models import Consultation, User


def visible_consultation(user: User, pk: int) -> Consultation:
    """The consultation, if ``user`` may see it; a 404 otherwise (whether it exists is nobody else's business)."""
    consultation = (
        consultations_visible_to(user)
        .select_related("requested_expert__user", "proposal", "ended_by")
        .filter(pk=pk)
        .first()
    )
    if consultation is None:
        raise Http404
    return consultation


class Unread(TypedDict):
    unread: int


def with_unread(consultations: QuerySet[Consultation], user: User) -> QuerySet[WithAnnotations[Consultation, Unread]]:
    """Annotate ``unread``: messages of the other side after the user's read marker (system lines not counted).

    This read belongs in ``chat.selectors`` (it reads chat's models); it lives here until chat offers it.
    """
    read_up_to = ReadMarker.objects.filter(consultation=OuterRef("pk"), user=user).values("last_read_seq")[:1]
    unread_messages = (
        Q(messages__seq__gt=Coalesce(Subquery(read_up_to, output_field=IntegerField()), Value(0)))
        & ~Q(messages__sender_id=user.pk)
        & ~Q(messages__kind=MessageKind.SYSTEM)
        & Q(messages__deleted_at__isnull=True)
    )
    return consultations.annotate(unread=Count("messages", filter=unread_messages))


def unread_total(user: User) -> int:
    """All unread messages of the user's consultations (the badge of the 在线咨询 link)."""
    rows = with_unread(consultations_visible_to(user), user).values_list("unread", flat=True)
    return sum(rows)
