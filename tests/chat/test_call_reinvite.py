"""An expert who declined an invitation into a call, or left it, may be invited again (one row per person and
call, the thread keeps each step); one still invited or in the call is ``already_invited``."""

from __future__ import annotations

import pytest

from chat import calls
from chat.models import CallState
from consult.desk import access
from consult.kernel.exceptions import DomainError
from consult.models import Consultation, Notification, User
from tests.chat.test_calls import FakeJanus, _active_call, colleague, janus, lines

__all__ = ["colleague", "janus"]  # fixtures

pytestmark = pytest.mark.django_db


def test_an_expert_who_declined_or_left_is_invited_again(
    janus: FakeJanus, consultation: Consultation, deputy: User, expert: User, colleague: User
) -> None:
    call = _active_call(consultation, deputy, expert)
    ids = {"consultation_id": consultation.pk, "call_id": call.pk}
    calls.invite_expert(actor=expert, expert_id=colleague.pk, **ids)
    calls.decline_call(actor=colleague, **ids)

    calls.invite_expert(actor=expert, expert_id=colleague.pk, **ids)  # after a decline

    consultation.refresh_from_db()
    assert access.can_call(colleague, consultation)
    assert Notification.objects.filter(user=colleague, kind="consultation.call_invite").count() == 2
    with pytest.raises(DomainError) as twice:  # still invited
        calls.invite_expert(actor=expert, expert_id=colleague.pk, **ids)
    assert twice.value.code == "already_invited"
    calls.accept_call(actor=colleague, **ids)
    with pytest.raises(DomainError) as inside:  # in the call
        calls.invite_expert(actor=expert, expert_id=colleague.pk, **ids)
    assert inside.value.code == "already_invited"
    calls.hang_up(actor=colleague, **ids)  # three → two: the call goes on without them

    calls.invite_expert(actor=expert, expert_id=colleague.pk, **ids)  # after leaving
    calls.accept_call(actor=colleague, **ids)

    call.refresh_from_db()
    assert call.state == CallState.ACTIVE
    assert [(p["user"], p["joined"]) for p in calls.call_payload(call)["participants"]] == [
        (deputy.pk, True),
        (expert.pk, True),
        (colleague.pk, True),
    ]
    assert call.participants.filter(user=colleague).count() == 1
    said = lines(consultation)
    assert said.count(f"{expert.full_name} 邀请 {colleague.full_name} 加入通话") == 3
    assert said.count(f"{colleague.full_name} 加入了通话") == 2
    assert said.count(f"{colleague.full_name} 离开了通话") == 1
