"""The desk catches up by itself: whatever is still waiting while an expert is free gets routed."""

from __future__ import annotations

from consult.desk import services as desk
from consult.models import Bureau, ConsultationStatus, User


def test_route_waiting_hands_a_waiting_consultation_to_a_free_expert(
    deputy: User, expert: User, bureau_a: Bureau
) -> None:
    # given the expert is present and a consultation was left waiting (its after-commit routing never ran)
    desk.expert_connected(actor=expert)
    waiting = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分")
    assert waiting.status == ConsultationStatus.QUEUED

    # when the periodic safety net runs
    assigned = desk.route_waiting()

    # then it is taken by the expert
    waiting.refresh_from_db()
    assert assigned == 1
    assert waiting.status == ConsultationStatus.ACTIVE
    assert waiting.expert.user == expert


def test_route_waiting_leaves_the_queue_alone_when_nobody_is_free(deputy: User, bureau_a: Bureau) -> None:
    waiting = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="学区划分")

    assert desk.route_waiting() == 0
    waiting.refresh_from_db()
    assert waiting.status == ConsultationStatus.QUEUED
