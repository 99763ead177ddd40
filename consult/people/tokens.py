"""Personal API tokens (接口令牌): issue, list and revoke. The secret is returned once and never stored.

A user manages their own tokens; an administrator manages anyone's (for a service account, or to cut off a
leaked token). knox hashes the secret (SHA-512) and checks it on every request (``knox.auth``).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from consult.kernel.exceptions import InvalidInput, NotAllowed, NotFound
from consult.models import ApiToken, User
from consult.people.roles import Role

MAX_TOKENS_PER_USER = 20


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN or user.is_superuser


def tokens_visible_to(viewer: User) -> QuerySet[ApiToken]:
    """Your own tokens; an administrator sees everyone's."""
    tokens: QuerySet[ApiToken] = ApiToken.objects.select_related("user")
    return tokens if is_admin(viewer) else tokens.filter(user=viewer)


@transaction.atomic
def issue_token(*, actor: User, owner: User, name: str, expires_in: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for ``owner``: the row and the secret, which only this call ever sees.

    The owner's row is locked while counting, so two requests at once cannot both take the twentieth place."""
    if owner.pk != actor.pk and not is_admin(actor):
        raise NotAllowed(_("only an administrator may create a token for someone else"))
    if not owner.is_active:
        raise InvalidInput(_("this account is not active"), field="user")
    User.objects.select_for_update().filter(pk=owner.pk).first()
    if ApiToken.objects.filter(user=owner).count() >= MAX_TOKENS_PER_USER:
        raise InvalidInput(_("at most %(n)d tokens per person") % {"n": MAX_TOKENS_PER_USER}, field="name")
    token, secret = ApiToken.objects.create(user=owner, expiry=expires_in, name=name)
    return token, secret


def revoke_token(*, actor: User, token_id: int) -> None:
    """Delete the token: scripts using it get 401 from their next request."""
    token = tokens_visible_to(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("no such token"))
    token.delete()
