"""Who reads a consultation addressed by name (点将) while it waits (issue 11, item 7): the named expert, the
deputy and the office; not the rest of the bureau. One policy (consult/desk/access.py), four answers that agree:
``consultations_visible_to``, ``can_read``, ``search_acl`` (with chat.search's facts) and ``search_keys``."""

from __future__ import annotations

import pytest

from chat import search as chat_search
from chat import services as chat
from consult.desk import access
from consult.desk import services as desk
from consult.desk.selectors import expert_workbench
from consult.models import Bureau, Consultation, ConsultationStatus, User
from tests.factories import ExpertProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(bureau_a: Bureau) -> User:
    return ExpertProfileFactory(user__username="colleague", user__full_name="周晓", bureau=bureau_a).user


def start(deputy: User, bureau_a: Bureau, named: User | None) -> Consultation:
    expert_id = named.expert_profile.pk if named is not None else None
    started = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分", expert_id=expert_id)
    consultation = Consultation.objects.select_related("expert").get(pk=started.pk)
    assert consultation.status == ConsultationStatus.QUEUED
    return consultation


def readers(consultation: Consultation, *users: User) -> list[bool]:
    return [access.can_read(user, consultation) for user in users]


def visible(consultation: Consultation, *users: User) -> list[bool]:
    return [access.consultations_visible_to(user).filter(pk=consultation.pk).exists() for user in users]


def finds(consultation: Consultation, *users: User) -> list[bool]:
    message = chat.post_message(
        actor=consultation.deputy, consultation_id=consultation.pk, client_id="q", body="学区怎么划"
    )[0]
    (document,) = chat_search.documents([message.pk])
    return [bool(set(access.search_keys(user)) & set(document.acl)) for user in users]


def test_a_consultation_named_for_an_expert_is_read_by_that_expert_and_not_by_the_colleague(
    deputy: User, expert: User, colleague: User, staff: User, bureau_a: Bureau
) -> None:
    consultation = start(deputy, bureau_a, named=expert)

    assert readers(consultation, expert, colleague, deputy, staff) == [True, False, True, True]
    assert visible(consultation, expert, colleague, deputy, staff) == [True, False, True, True]
    assert finds(consultation, expert, colleague, deputy, staff) == [True, False, True, True]
    assert [c.pk for c in expert_workbench(colleague)["queue"]] == []
    assert [c.pk for c in expert_workbench(expert)["queue"]] == [consultation.pk]


def test_a_consultation_for_the_bureau_is_read_by_every_expert_of_the_bureau_while_it_waits(
    deputy: User, expert: User, colleague: User, bureau_a: Bureau
) -> None:
    consultation = start(deputy, bureau_a, named=None)

    assert readers(consultation, expert, colleague) == [True, True]
    assert visible(consultation, expert, colleague) == [True, True]
    assert finds(consultation, expert, colleague) == [True, True]
