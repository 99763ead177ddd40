"""Chat services: numbering, idempotent sends, who may write, system lines, edit/delete, read markers.

Most tests run in one test transaction (``db``); the concurrent posts need PostgreSQL row locks and committed
data (``transactional_db``).
"""

from __future__ import annotations

from typing import Any

import pytest

from chat import services as chat
from chat.models import Message, MessageKind, MessageRevision, ReadMarker
from chat.selectors import message_payload, messages_after
from consult.desk import services as desk
from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed, NotFound
from consult.models import Bureau, Consultation, User
from tests.chat.conftest import open_consultation
from tests.factories import ExpertProfileFactory
from tests.proposals.test_races import at_once, failures
from tests.required import require_postgresql


def post(actor: User, consultation: Consultation, client_id: str, body: str = "您好") -> tuple[Message, bool]:
    return chat.post_message(actor=actor, consultation_id=consultation.pk, client_id=client_id, body=body)


def numbers(consultation: Consultation) -> list[int]:
    return list(Message.objects.filter(consultation=consultation).order_by("seq").values_list("seq", flat=True))


def last_seq(consultation: Consultation) -> int:
    return Consultation.objects.get(pk=consultation.pk).last_seq


# --- posting ------------------------------------------------------------------------------------------------


def test_messages_are_numbered_one_after_another_after_the_system_lines(
    consultation: Consultation, deputy: User, expert: User
) -> None:
    sent = [post(who, consultation, f"c{n}", f"第{n}条")[0] for n, who in enumerate([deputy, expert, deputy, deputy])]

    assert [m.seq for m in sent] == [3, 4, 5, 6]
    assert numbers(consultation) == [1, 2, 3, 4, 5, 6]
    assert last_seq(consultation) == 6
    assert [m.kind for m in Message.objects.filter(consultation=consultation)] == [MessageKind.SYSTEM] * 2 + [
        MessageKind.TEXT
    ] * 4


def test_a_retry_with_the_same_client_id_returns_the_first_message_and_writes_nothing(
    consultation: Consultation, deputy: User
) -> None:
    first, created = post(deputy, consultation, "a1b2", "请问收费标准?")

    again, created_again = post(deputy, consultation, "a1b2", "请问收费标准? (retry with other text)")

    assert (created, created_again) == (True, False)
    assert (again.pk, again.seq, again.body) == (first.pk, 3, "请问收费标准?")
    assert Message.objects.filter(consultation=consultation).count() == 3
    assert last_seq(consultation) == 3


def test_the_same_client_id_from_the_other_participant_is_another_message(
    consultation: Consultation, deputy: User, expert: User
) -> None:
    mine, _ = post(deputy, consultation, "same-id")

    theirs, created = post(expert, consultation, "same-id")

    assert created
    assert (mine.seq, theirs.seq) == (3, 4)


def test_a_retry_is_answered_even_after_the_consultation_ended(
    consultation: Consultation, deputy: User, expert: User
) -> None:
    first, _ = post(deputy, consultation, "before-end")
    desk.end_consultation(actor=expert, consultation_id=consultation.pk)

    again, created = post(deputy, consultation, "before-end")

    assert (again.pk, created) == (first.pk, False)


@pytest.mark.parametrize(("body", "kept"), [("  你好  ", "你好"), ("字" * 2000, "字" * 2000)])
def test_the_body_is_trimmed_and_may_have_2000_characters(
    consultation: Consultation, deputy: User, body: str, kept: str
) -> None:
    assert post(deputy, consultation, "x", body)[0].body == kept


@pytest.mark.parametrize("body", ["", "  \n ", "字" * 2001])
def test_an_empty_or_too_long_body_is_refused_naming_body(consultation: Consultation, deputy: User, body: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        post(deputy, consultation, "x", body)

    assert refused.value.field == "body"
    assert (numbers(consultation), last_seq(consultation)) == ([1, 2], 2)


@pytest.mark.parametrize("client_id", ["", "   ", "c" * 65])
def test_a_missing_or_too_long_client_id_is_refused_naming_client_id(
    consultation: Consultation, deputy: User, client_id: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        post(deputy, consultation, client_id)

    assert refused.value.field == "client_id"
    assert numbers(consultation) == [1, 2]


def test_a_client_id_of_64_characters_is_accepted(consultation: Consultation, deputy: User) -> None:
    assert post(deputy, consultation, "c" * 64)[0].client_id == "c" * 64


@pytest.mark.parametrize("who", ["outsider", "cosigner", "staff", "handler", "colleague"])
def test_nobody_but_the_deputy_and_the_handling_expert_posts(
    request: pytest.FixtureRequest, who: str, consultation: Consultation, bureau_a: Bureau
) -> None:
    actor = (
        ExpertProfileFactory(user__username="colleague", bureau=bureau_a).user
        if who == "colleague"
        else request.getfixturevalue(who)
    )

    with pytest.raises(NotAllowed):
        post(actor, consultation, "intruder")

    assert (numbers(consultation), last_seq(consultation)) == ([1, 2], 2)


def test_the_expert_who_transferred_it_no_longer_posts(
    consultation: Consultation, expert: User, bureau_b: Bureau
) -> None:
    desk.transfer_consultation(actor=expert, consultation_id=consultation.pk, note="转交通委", to_bureau_id=bureau_b.pk)

    with pytest.raises(NotAllowed):
        post(expert, consultation, "after-transfer")


def test_the_deputy_may_write_while_waiting_in_the_queue(deputy: User, bureau_a: Bureau) -> None:
    waiting = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="排队时先说明情况")

    message, _ = post(deputy, waiting, "early", "孩子今年九月入学")

    assert message.seq == 2


@pytest.mark.parametrize("who", ["deputy", "expert"])
def test_nobody_posts_after_the_consultation_ended(
    request: pytest.FixtureRequest, who: str, consultation: Consultation, deputy: User
) -> None:
    desk.end_consultation(actor=deputy, consultation_id=consultation.pk)

    with pytest.raises(InvalidTransition) as refused:
        post(request.getfixturevalue(who), consultation, "late")

    assert refused.value.code == "consultation_ended"
    assert numbers(consultation) == [1, 2, 3]


def test_an_unknown_consultation_is_not_found(deputy: User) -> None:
    with pytest.raises(NotFound):
        chat.post_message(actor=deputy, consultation_id=999_999, client_id="x", body="你好")


def test_system_lines_share_the_numbering_with_messages(consultation: Consultation, deputy: User, expert: User) -> None:
    post(deputy, consultation, "q")
    desk.record_outcome(actor=expert, consultation_id=consultation.pk, outcome="answered")
    post(expert, consultation, "a")
    desk.end_consultation(actor=deputy, consultation_id=consultation.pk)

    rows = list(Message.objects.filter(consultation=consultation).order_by("seq").values_list("seq", "kind"))

    assert rows == [(1, "system"), (2, "system"), (3, "text"), (4, "system"), (5, "text"), (6, "system")]
    assert last_seq(consultation) == 6


def test_messages_after_a_number_are_the_later_ones_in_order(consultation: Consultation, deputy: User) -> None:
    for n in range(5):
        post(deputy, consultation, f"m{n}")

    assert [m.seq for m in messages_after(consultation, 4)] == [5, 6, 7]
    assert [m.seq for m in messages_after(consultation, -3)] == [1, 2, 3, 4, 5, 6, 7]
    assert [m.seq for m in messages_after(consultation, 0, limit=2)] == [1, 2]


# --- edit and delete ----------------------------------------------------------------------------------------


def test_the_author_edits_within_the_window_and_the_old_text_is_kept(consultation: Consultation, deputy: User) -> None:
    message, _ = post(deputy, consultation, "e", "收费标准是多少")

    edited = chat.edit_message(
        actor=deputy, consultation_id=message.consultation_id, message_id=message.pk, body=" 课后服务收费标准是多少? "
    )

    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.seq, stored.edited_at is not None) == ("课后服务收费标准是多少?", 3, True)
    assert list(MessageRevision.objects.filter(message=message).values_list("body", flat=True)) == ["收费标准是多少"]
    assert message_payload(edited)["edited"] is True


def test_an_edit_after_the_window_is_refused(consultation: Consultation, deputy: User, settings: Any) -> None:
    message, _ = post(deputy, consultation, "e", "原文")
    settings.CHAT_EDIT_WINDOW_SECONDS = 0

    with pytest.raises(InvalidTransition) as refused:
        chat.edit_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk, body="改后")

    assert refused.value.code == "edit_window_closed"
    assert Message.objects.get(pk=message.pk).body == "原文"
    assert not MessageRevision.objects.exists()


def test_an_edit_after_the_consultation_ended_is_refused(consultation: Consultation, deputy: User) -> None:
    message, _ = post(deputy, consultation, "e", "原文")
    desk.end_consultation(actor=deputy, consultation_id=consultation.pk)

    with pytest.raises(InvalidTransition) as refused:
        chat.edit_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk, body="改后")

    assert refused.value.code == "consultation_ended"
    assert Message.objects.get(pk=message.pk).body == "原文"


def test_an_edit_to_an_empty_text_is_refused_naming_body(consultation: Consultation, deputy: User) -> None:
    message, _ = post(deputy, consultation, "e")

    with pytest.raises(InvalidInput) as refused:
        chat.edit_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk, body="  ")

    assert refused.value.field == "body"


def test_a_deleted_message_leaves_a_tombstone_that_keeps_its_number(consultation: Consultation, deputy: User) -> None:
    message, _ = post(deputy, consultation, "d", "发错了")

    chat.delete_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk)
    after, _ = post(deputy, consultation, "d2", "下一条")

    tombstone = message_payload(Message.objects.get(pk=message.pk))
    assert (tombstone["seq"], tombstone["body"], tombstone["deleted"]) == (3, "", True)
    assert after.seq == 4
    assert list(MessageRevision.objects.filter(message=message).values_list("body", flat=True)) == ["发错了"]


def test_a_deleted_message_can_be_neither_edited_nor_deleted_again(consultation: Consultation, deputy: User) -> None:
    message, _ = post(deputy, consultation, "d")
    chat.delete_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk)

    with pytest.raises(InvalidTransition) as edit:
        chat.edit_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk, body="复活")
    with pytest.raises(InvalidTransition) as delete:
        chat.delete_message(actor=deputy, consultation_id=message.consultation_id, message_id=message.pk)

    assert (edit.value.code, delete.value.code) == ("message_deleted", "message_deleted")


@pytest.mark.parametrize(("who", "error"), [("expert", NotAllowed), ("staff", NotAllowed), ("outsider", NotFound)])
def test_only_the_author_edits_or_deletes(
    request: pytest.FixtureRequest, who: str, error: type[Exception], consultation: Consultation, deputy: User
) -> None:
    message, _ = post(deputy, consultation, "mine", "原文")
    actor: User = request.getfixturevalue(who)

    with pytest.raises(error):
        chat.edit_message(actor=actor, consultation_id=message.consultation_id, message_id=message.pk, body="篡改")
    with pytest.raises(error):
        chat.delete_message(actor=actor, consultation_id=message.consultation_id, message_id=message.pk)

    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.deleted_at, stored.edited_at) == ("原文", None, None)


def test_a_system_line_cannot_be_edited(consultation: Consultation, deputy: User) -> None:
    joined = Message.objects.get(consultation=consultation, seq=2)

    with pytest.raises(NotAllowed):
        chat.edit_message(actor=deputy, consultation_id=joined.consultation_id, message_id=joined.pk, body="改")


# --- read markers -------------------------------------------------------------------------------------------


def test_the_read_marker_only_moves_forward_and_stops_at_the_last_message(
    consultation: Consultation, deputy: User
) -> None:
    for n in range(3):
        post(deputy, consultation, f"r{n}")  # last_seq 5

    marks = [
        chat.mark_read(actor=deputy, consultation_id=consultation.pk, seq=seq).last_read_seq for seq in (3, 1, 99, 4)
    ]

    assert marks == [3, 3, 5, 5]
    assert ReadMarker.objects.get(consultation=consultation, user=deputy).last_read_seq == 5


def test_each_participant_has_their_own_read_marker(consultation: Consultation, deputy: User, expert: User) -> None:
    chat.mark_read(actor=deputy, consultation_id=consultation.pk, seq=2)
    chat.mark_read(actor=expert, consultation_id=consultation.pk, seq=1)

    assert dict(ReadMarker.objects.values_list("user_id", "last_read_seq")) == {deputy.pk: 2, expert.pk: 1}


@pytest.mark.parametrize("who", ["outsider", "staff", "cosigner"])
def test_a_non_participant_has_no_read_marker(
    request: pytest.FixtureRequest, who: str, consultation: Consultation
) -> None:
    with pytest.raises(NotFound):
        chat.mark_read(actor=request.getfixturevalue(who), consultation_id=consultation.pk, seq=1)

    assert not ReadMarker.objects.exists()


# --- concurrent posts on PostgreSQL -------------------------------------------------------------------------

ROUNDS = 5
PER_THREAD = 10


@pytest.fixture
def postgresql(transactional_db: None) -> None:
    require_postgresql("concurrent numbering (SELECT ... FOR UPDATE)")


def test_posts_from_two_threads_at_once_get_distinct_consecutive_numbers(
    postgresql: None, deputy: User, expert: User, bureau_a: Bureau
) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    for round_ in range(ROUNDS):

        def burst(who: User, round_: int = round_) -> list[int]:
            return [post(who, consultation, f"{who.username}-{round_}-{n}")[0].seq for n in range(PER_THREAD)]

        outcomes = at_once(lambda: burst(deputy), lambda: burst(expert))

        assert failures(outcomes) == []
        for outcome in outcomes:
            assert outcome.value == sorted(outcome.value)  # each sender's own order is kept
        total = 2 + 2 * PER_THREAD * (round_ + 1)
        assert numbers(consultation) == list(range(1, total + 1))
        assert last_seq(consultation) == total


def test_the_same_client_id_sent_twice_at_once_makes_one_message(
    postgresql: None, deputy: User, expert: User, bureau_a: Bureau
) -> None:
    consultation = open_consultation(deputy, expert, bureau_a)
    for round_ in range(ROUNDS):
        outcomes = at_once(
            lambda r=round_: post(deputy, consultation, f"twice-{r}"),
            lambda r=round_: post(deputy, consultation, f"twice-{r}"),
        )

        assert failures(outcomes) == []
        (first, first_created), (second, second_created) = (outcome.value for outcome in outcomes)
        assert first.pk == second.pk
        assert sorted([first_created, second_created]) == [False, True]
        assert Message.objects.filter(consultation=consultation, client_id=f"twice-{round_}").count() == 1
        assert numbers(consultation) == list(range(1, 2 + round_ + 2))
