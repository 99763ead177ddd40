"""The consultation desk's services: periods, presence, starting, routing, transfer, ending, outcome, rating.

Most tests run in one test transaction (``db``); what a service defers to after commit (routing, live events)
is run by ``commit``, as a real commit would. The races at the end need PostgreSQL row locks and committed
data (``transactional_db``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.utils import timezone

from chat.models import Message, MessageKind
from consult.desk import services as desk
from consult.desk.access import can_post, can_read
from consult.desk.selectors import PRESENCE_TIMEOUT, DeskFigures, desk_figures, desk_figures_per_bureau, online_counts
from consult.kernel.exceptions import InvalidInput, InvalidTransition, NotAllowed
from consult.models import (
    Bureau,
    Consultation,
    ConsultationStatus,
    ConsultationTransfer,
    ExpertPresence,
    ExpertProfile,
    Outcome,
    PresenceStatus,
    User,
)
from consult.people.roles import Chamber
from proposals import services as proposals
from proposals.models import ProposalSession
from tests.factories import BureauFactory, DeputyProfileFactory, ExpertProfileFactory
from tests.proposals.conftest import content
from tests.proposals.test_races import at_once, failures
from tests.required import require_postgresql

T = TypeVar("T")
TOPIC = "东湖区学区划分调整后,翠湖新村的孩子去哪所小学?"


# --- helpers ------------------------------------------------------------------------------------------------


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Call a service, then run what it deferred to after commit (routing, events), as a real commit does."""

    def call(service: Callable[..., T], **kwargs: Any) -> T:
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return call


def new_expert(bureau: Bureau, username: str, capacity: int = 3) -> User:
    profile: ExpertProfile = ExpertProfileFactory(
        user__username=username, user__full_name=f"专家{username}", bureau=bureau, capacity=capacity
    )
    return profile.user


def profile_of(user: User) -> ExpertProfile:
    return ExpertProfile.objects.get(user=user)


def presence_of(user: User) -> ExpertPresence:
    return ExpertPresence.objects.get(expert__user=user)


def fresh(consultation: Consultation) -> Consultation:
    return Consultation.objects.select_related("expert__user").get(pk=consultation.pk)


def system_lines(consultation: Consultation) -> list[str]:
    """The platform's lines in the thread, in order (worded in the active language: tests look for names)."""
    return list(
        Message.objects.filter(consultation=consultation, kind=MessageKind.SYSTEM)
        .order_by("seq")
        .values_list("body", flat=True)
    )


def mentions(line: str, *parts: str) -> bool:
    return all(part in line for part in parts)


def handled_by(consultation: Consultation) -> User | None:
    expert = fresh(consultation).expert
    return expert.user if expert else None


@pytest.fixture
def online(commit: Callable[..., Any]) -> Callable[[User], ExpertPresence]:
    """The expert opens their workbench (one live connection)."""

    def connect(user: User) -> ExpertPresence:
        presence: ExpertPresence = commit(desk.expert_connected, actor=user)
        return presence

    return connect


@pytest.fixture
def ask(commit: Callable[..., Any], deputy: User, bureau_a: Bureau) -> Callable[..., Consultation]:
    """A deputy (by default ``deputy``) starts a consultation with a bureau (by default bureau A)."""

    def start(who: User | None = None, bureau: Bureau | None = None, **kwargs: Any) -> Consultation:
        consultation: Consultation = commit(
            desk.start_consultation,
            actor=who or deputy,
            bureau_id=(bureau or bureau_a).pk,
            topic=kwargs.pop("topic", TOPIC),
            **kwargs,
        )
        return fresh(consultation)

    return start


@pytest.fixture
def active(ask: Callable[..., Consultation], online: Callable[[User], ExpertPresence], expert: User) -> Consultation:
    """The deputy's consultation, taken by ``expert`` (bureau A), in progress."""
    online(expert)
    consultation = ask()
    assert (consultation.status, handled_by(consultation)) == (ConsultationStatus.ACTIVE, expert)
    return consultation


@pytest.fixture
def colleague(bureau_a: Bureau) -> User:
    """A second expert of bureau A."""
    return new_expert(bureau_a, "colleague")


# --- periods ------------------------------------------------------------------------------------------------


def test_office_opens_a_period_with_bureaus_and_only_their_experts(
    staff: User, bureau_a: Bureau, bureau_b: Bureau, expert: User
) -> None:
    outside = new_expert(bureau_b, "outside")
    now = timezone.now()

    period = desk.open_period(
        actor=staff,
        name=" 2027年两会在线咨询 ",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=8),
        bureau_ids=[bureau_a.pk],
        expert_ids=[profile_of(expert).pk, profile_of(outside).pk],
    )

    assert period.name == "2027年两会在线咨询"
    assert list(period.bureaus.all()) == [bureau_a]
    assert list(period.experts.all()) == [profile_of(expert)]
    assert desk.current_period() == period


def test_a_consultation_started_during_a_period_belongs_to_it(
    staff: User, bureau_a: Bureau, ask: Callable[..., Consultation]
) -> None:
    now = timezone.now()
    period = desk.open_period(
        actor=staff,
        name="两会",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        bureau_ids=[bureau_a.pk],
        expert_ids=[],
    )

    assert ask().period == period


@pytest.mark.parametrize("who", ["deputy", "expert", "handler"])
def test_only_the_office_opens_a_period(request: pytest.FixtureRequest, who: str, bureau_a: Bureau) -> None:
    actor: User = request.getfixturevalue(who)
    now = timezone.now()

    with pytest.raises(NotAllowed):
        desk.open_period(
            actor=actor,
            name="两会",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
            bureau_ids=[bureau_a.pk],
            expert_ids=[],
        )


@pytest.mark.parametrize(
    ("name", "ends_after", "with_bureau", "field"),
    [
        ("两会", timedelta(0), True, "ends_at"),
        ("两会", -timedelta(hours=1), True, "ends_at"),
        ("两会", timedelta(hours=1), False, "bureau_ids"),
        ("   ", timedelta(hours=1), True, "name"),
    ],
)
def test_an_invalid_period_is_refused_naming_the_field(
    staff: User, bureau_a: Bureau, name: str, ends_after: timedelta, with_bureau: bool, field: str
) -> None:
    now = timezone.now()

    with pytest.raises(InvalidInput) as refused:
        desk.open_period(
            actor=staff,
            name=name,
            starts_at=now,
            ends_at=now + ends_after,
            bureau_ids=[bureau_a.pk] if with_bureau else [],
            expert_ids=[],
        )

    assert refused.value.field == field
    assert desk.current_period() is None


# --- presence -----------------------------------------------------------------------------------------------


def test_each_live_connection_counts_and_with_the_last_one_closed_the_expert_is_not_present(
    expert: User, bureau_a: Bureau, online: Callable[[User], ExpertPresence], commit: Callable[..., Any]
) -> None:
    online(expert)
    online(expert)  # a second tab
    assert (presence_of(expert).connections, presence_of(expert).status) == (2, PresenceStatus.ONLINE)

    commit(desk.expert_disconnected, actor=expert)
    one_left = presence_of(expert)
    counted_with_one = online_counts()
    commit(desk.expert_disconnected, actor=expert)
    none_left = presence_of(expert)

    assert (one_left.connections, desk.is_present(one_left)) == (1, True)
    assert counted_with_one == {bureau_a.pk: 1}
    assert (none_left.connections, desk.is_present(none_left)) == (0, False)
    assert none_left.status == PresenceStatus.ONLINE  # the chosen status stays; without a connection: not present
    assert online_counts() == {}


def test_a_disconnect_without_connections_never_counts_below_zero(
    expert: User, online: Callable[[User], ExpertPresence], commit: Callable[..., Any]
) -> None:
    online(expert)
    commit(desk.expert_disconnected, actor=expert)

    commit(desk.expert_disconnected, actor=expert)

    assert presence_of(expert).connections == 0
    assert not desk.is_present(presence_of(expert))


def test_an_expert_who_chose_away_is_still_away_after_closing_and_reopening_the_workbench(
    expert: User, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation], commit: Any
) -> None:
    online(expert)
    commit(desk.set_presence, actor=expert, status=PresenceStatus.AWAY)
    commit(desk.expert_disconnected, actor=expert)

    online(expert)
    waiting = ask()

    assert presence_of(expert).status == PresenceStatus.AWAY
    assert handled_by(waiting) is None


@pytest.mark.parametrize("who", ["deputy", "staff", "handler"])
def test_live_connections_of_non_experts_leave_no_presence(
    request: pytest.FixtureRequest, who: str, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)

    assert commit(desk.expert_connected, actor=actor) is None
    assert commit(desk.expert_disconnected, actor=actor) is None
    assert not ExpertPresence.objects.exists()


def test_an_away_expert_stays_away_when_opening_another_tab_and_is_not_counted_online(
    expert: User, bureau_a: Bureau, online: Callable[[User], ExpertPresence], commit: Callable[..., Any]
) -> None:
    online(expert)
    commit(desk.set_presence, actor=expert, status=PresenceStatus.AWAY)

    online(expert)

    assert presence_of(expert).status == PresenceStatus.AWAY
    assert online_counts().get(bureau_a.pk, 0) == 0


def test_an_expert_whose_last_ping_is_too_old_is_not_present_until_the_next_ping(
    expert: User, bureau_a: Bureau, online: Callable[[User], ExpertPresence]
) -> None:
    online(expert)
    ExpertPresence.objects.filter(expert__user=expert).update(
        last_seen=timezone.now() - PRESENCE_TIMEOUT - timedelta(seconds=1)
    )
    stale = presence_of(expert)

    desk.touch_presence(actor=expert)

    assert not desk.is_present(stale)
    assert desk.is_present(presence_of(expert))
    assert online_counts() == {bureau_a.pk: 1}


@pytest.mark.parametrize("status", ["offline", "busy", ""])
def test_an_expert_chooses_only_online_or_away(expert: User, status: str, commit: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        commit(desk.set_presence, actor=expert, status=status)

    assert refused.value.field == "status"


def test_only_experts_set_a_presence(deputy: User, commit: Callable[..., Any]) -> None:
    with pytest.raises(NotAllowed):
        commit(desk.set_presence, actor=deputy, status=PresenceStatus.ONLINE)


# --- starting a consultation --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["expert", "handler", "staff", "admin_user", "outsider"])
def test_only_deputies_start_a_consultation(
    request: pytest.FixtureRequest, who: str, ask: Callable[..., Consultation]
) -> None:
    actor: User = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        ask(actor)

    assert not Consultation.objects.exists()


def test_a_cppcc_member_starts_a_consultation_that_waits_in_the_queue(
    member: User, ask: Callable[..., Consultation]
) -> None:
    consultation = ask(member)

    assert (consultation.deputy, consultation.status, consultation.expert) == (member, ConsultationStatus.QUEUED, None)
    assert desk.queue_position(consultation) == 1
    [started] = system_lines(consultation)
    assert mentions(started, "李雪梅", "市教委", TOPIC)


@pytest.mark.parametrize(("topic", "kept"), [("  学区划分  ", "学区划分"), ("问" * 200, "问" * 200)])
def test_the_topic_is_trimmed_and_may_have_200_characters(
    ask: Callable[..., Consultation], topic: str, kept: str
) -> None:
    assert ask(topic=topic).topic == kept


@pytest.mark.parametrize("topic", ["", "   ", "问" * 201])
def test_a_missing_or_too_long_topic_is_refused_naming_topic(ask: Callable[..., Consultation], topic: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ask(topic=topic)

    assert refused.value.field == "topic"
    assert not Consultation.objects.exists()


def test_an_unknown_or_inactive_bureau_is_refused_naming_bureau_id(
    deputy: User, commit: Callable[..., Any], ask: Callable[..., Consultation]
) -> None:
    closed = BureauFactory(is_active=False)

    with pytest.raises(InvalidInput) as unknown:
        commit(desk.start_consultation, actor=deputy, bureau_id=999_999, topic=TOPIC)
    with pytest.raises(InvalidInput) as inactive:
        ask(bureau=closed)

    assert (unknown.value.field, inactive.value.field) == ("bureau_id", "bureau_id")
    assert not Consultation.objects.exists()


def test_naming_an_expert_of_another_bureau_is_refused_naming_expert_id(
    ask: Callable[..., Consultation], bureau_b: Bureau
) -> None:
    elsewhere = new_expert(bureau_b, "elsewhere")

    with pytest.raises(InvalidInput) as refused:
        ask(expert_id=profile_of(elsewhere).pk)

    assert refused.value.field == "expert_id"
    assert not Consultation.objects.exists()


def test_naming_an_expert_whose_account_is_closed_is_refused(ask: Callable[..., Consultation], colleague: User) -> None:
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])

    with pytest.raises(InvalidInput) as refused:
        ask(expert_id=profile_of(colleague).pk)

    assert refused.value.field == "expert_id"


@pytest.fixture
def npc_session(db: None) -> ProposalSession:
    return ProposalSession.objects.create(
        chamber=Chamber.NPC, year=2027, name="海滨市第十六届人民代表大会第三次会议", number_prefix="建", is_open=True
    )


def test_a_deputy_links_one_of_their_own_proposals(
    deputy: User, npc_session: ProposalSession, ask: Callable[..., Consultation]
) -> None:
    own = proposals.create_draft(actor=deputy, content=content())

    assert ask(proposal_id=own.pk).proposal == own


def test_linking_someone_elses_proposal_is_refused_naming_proposal_id(
    cosigner: User, npc_session: ProposalSession, ask: Callable[..., Consultation]
) -> None:
    theirs = proposals.create_draft(actor=cosigner, content=content())

    with pytest.raises(InvalidInput) as refused:
        ask(proposal_id=theirs.pk)

    assert refused.value.field == "proposal_id"
    assert not Consultation.objects.exists()


# --- routing ------------------------------------------------------------------------------------------------


def test_a_consultation_goes_at_once_to_an_online_expert_with_free_capacity(
    expert: User, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    online(expert)

    consultation = ask()

    assert (consultation.status, handled_by(consultation)) == (ConsultationStatus.ACTIVE, expert)
    assert consultation.assigned_at is not None
    assert desk.queue_position(consultation) is None
    assert [mentions(line, "陈志远", "市教委") for line in system_lines(consultation)] == [False, True]  # joined
    assert can_post(expert, consultation)


def test_consultations_spread_over_the_experts_least_loaded_then_longest_idle(
    bureau_a: Bureau, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    experts = [new_expert(bureau_a, f"e{i}") for i in range(3)]
    for user in experts:
        online(user)

    takers = [handled_by(ask()) for _ in range(6)]

    assert sorted(takers[:3], key=lambda u: u.pk) == experts  # nobody gets a second one while another has none
    assert takers[3:] == takers[:3]  # then the one idle longest goes first


def test_the_least_loaded_expert_takes_the_next_one(
    bureau_a: Bureau, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    busy, idle = new_expert(bureau_a, "busy"), new_expert(bureau_a, "idle")
    online(busy)
    for _ in range(2):
        ask()  # both go to the only expert online
    online(idle)

    takers = [handled_by(ask()) for _ in range(3)]

    assert takers == [idle, idle, busy]  # idle catches up to 2, then the tie goes to the one idle longest


def test_the_expert_idle_longest_takes_the_next_one_not_the_first_by_id(
    bureau_a: Bureau, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation], commit: Any
) -> None:
    first, second = new_expert(bureau_a, "first"), new_expert(bureau_a, "second")
    for user in (first, second):
        online(user)
    for consultation in (ask(), ask(), ask()):  # first, second, first
        commit(desk.end_consultation, actor=consultation.expert.user, consultation_id=consultation.pk)

    assert handled_by(ask()) == second  # both are free; second's last consultation came before first's


def test_the_capacity_ratio_counts_not_the_number_of_consultations(
    bureau_a: Bureau, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    small, large = new_expert(bureau_a, "small", capacity=2), new_expert(bureau_a, "large", capacity=6)
    for user in (small, large):
        online(user)

    takers = [handled_by(ask()) for _ in range(4)]

    assert takers.count(large) == 3  # 1/6 < 1/2, 2/6 < 1/2, then 3/6 ties with 1/2
    assert takers.count(small) == 1


def test_nobody_offline_away_stale_closed_or_full_is_given_a_consultation(
    bureau_a: Bureau,
    online: Callable[[User], ExpertPresence],
    ask: Callable[..., Consultation],
    commit: Callable[..., Any],
    cosigner: User,
    member: User,
) -> None:
    gone, away, stale, closed, full = (new_expert(bureau_a, n, capacity=1) for n in ("gone", "away", "stale", "x", "f"))
    new_expert(bureau_a, "never")  # never connected: no presence at all
    online(full)
    assert handled_by(ask()) == full  # now at capacity
    for user in (gone, away, stale, closed):
        online(user)
    commit(desk.expert_disconnected, actor=gone)
    commit(desk.set_presence, actor=away, status=PresenceStatus.AWAY)
    ExpertPresence.objects.filter(expert__user=stale).update(
        last_seen=timezone.now() - PRESENCE_TIMEOUT - timedelta(seconds=1)
    )
    User.objects.filter(pk=closed.pk).update(is_active=False)

    waiting = [ask(who) for who in (cosigner, member, cosigner)]

    assert [(c.status, c.expert) for c in map(fresh, waiting)] == [(ConsultationStatus.QUEUED, None)] * 3
    assert [desk.queue_position(c) for c in waiting] == [1, 2, 3]
    assert desk.route_bureau(bureau_id=bureau_a.pk) == []


def test_an_expert_connecting_takes_the_head_of_the_queue_and_the_others_move_up(
    bureau_a: Bureau, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    waiting = [ask() for _ in range(3)]
    newcomer = new_expert(bureau_a, "newcomer", capacity=1)

    online(newcomer)

    assert [handled_by(c) for c in waiting] == [newcomer, None, None]
    assert [desk.queue_position(fresh(c)) for c in waiting] == [None, 1, 2]


def test_ending_a_consultation_frees_the_expert_for_the_head_of_the_queue(
    bureau_a: Bureau,
    deputy: User,
    online: Callable[[User], ExpertPresence],
    ask: Callable[..., Consultation],
    commit: Any,
) -> None:
    solo = new_expert(bureau_a, "solo", capacity=1)
    online(solo)
    first, second, third = ask(), ask(), ask()

    commit(desk.end_consultation, actor=solo, consultation_id=first.pk)  # ended by the expert
    after_first = [handled_by(c) for c in (second, third)]
    commit(desk.end_consultation, actor=deputy, consultation_id=second.pk)  # ended by the deputy

    assert after_first == [solo, None]
    assert handled_by(third) == solo
    assert fresh(third).status == ConsultationStatus.ACTIVE


def test_coming_back_from_away_takes_the_queue(
    expert: User, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation], commit: Any
) -> None:
    online(expert)
    commit(desk.set_presence, actor=expert, status=PresenceStatus.AWAY)
    waiting = ask()
    assert handled_by(waiting) is None

    commit(desk.set_presence, actor=expert, status=PresenceStatus.ONLINE)

    assert handled_by(waiting) == expert


def test_a_stale_expert_who_pings_again_takes_the_waiting_consultation(
    expert: User, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation], commit: Any
) -> None:
    online(expert)
    ExpertPresence.objects.filter(expert__user=expert).update(
        last_seen=timezone.now() - PRESENCE_TIMEOUT - timedelta(seconds=1)
    )
    waiting = ask()
    assert handled_by(waiting) is None

    commit(desk.touch_presence, actor=expert)

    assert handled_by(waiting) == expert


def test_a_named_expert_is_waited_for_while_others_take_the_rest_of_the_queue(
    expert: User,
    colleague: User,
    cosigner: User,
    online: Callable[[User], ExpertPresence],
    ask: Callable[..., Consultation],
) -> None:
    online(expert)
    named = ask(expert_id=profile_of(colleague).pk)  # 点将: the colleague is offline
    behind = ask(cosigner)

    before = (handled_by(named), desk.queue_position(fresh(named)), handled_by(behind))
    online(colleague)

    assert before == (None, 1, expert)
    assert handled_by(named) == colleague


def test_a_named_expert_who_is_online_gets_it_even_when_a_colleague_is_less_busy(
    expert: User, colleague: User, online: Callable[[User], ExpertPresence], ask: Callable[..., Consultation]
) -> None:
    for user in (expert, colleague):
        online(user)
    ask(expert_id=profile_of(colleague).pk)  # colleague now has one, expert none

    assert handled_by(ask(expert_id=profile_of(colleague).pk)) == colleague


# --- transfer -----------------------------------------------------------------------------------------------


def test_the_expert_transfers_to_a_colleague_with_a_note_seen_in_the_thread(
    active: Consultation,
    expert: User,
    colleague: User,
    deputy: User,
    online: Callable[[User], ExpertPresence],
    commit: Callable[..., Any],
) -> None:
    online(colleague)
    note = "学区问题请基础教育处答复"

    commit(
        desk.transfer_consultation,
        actor=expert,
        consultation_id=active.pk,
        note=f"  {note} ",
        to_expert_id=profile_of(colleague).pk,
    )

    transfer = ConsultationTransfer.objects.get(consultation=active)
    assert (transfer.from_expert, transfer.to_expert, transfer.note) == (
        profile_of(expert),
        profile_of(colleague),
        note,
    )
    assert handled_by(active) == colleague
    lines = system_lines(active)
    assert len(lines) == 4  # started, joined, transferred, joined
    assert mentions(lines[2], "陈志远", "专家colleague", note)
    assert mentions(lines[3], "专家colleague", "市教委")
    assert note not in lines[3]
    assert (can_post(expert, fresh(active)), can_read(expert, fresh(active))) == (False, True)
    assert can_post(deputy, fresh(active))


def test_the_expert_transfers_to_another_bureau_where_it_waits_in_the_queue(
    active: Consultation, expert: User, bureau_b: Bureau, commit: Callable[..., Any]
) -> None:
    commit(
        desk.transfer_consultation,
        actor=expert,
        consultation_id=active.pk,
        note="属于交通委职责",
        to_bureau_id=bureau_b.pk,
    )

    moved = fresh(active)
    assert (moved.bureau, moved.status, moved.expert, moved.requested_expert) == (
        bureau_b,
        ConsultationStatus.QUEUED,
        None,
        None,
    )
    assert desk.queue_position(moved) == 1
    assert len(system_lines(active)) == 3  # started, joined, transferred
    assert mentions(system_lines(active)[-1], "陈志远", "市交通委", "属于交通委职责")


def test_a_transfer_to_an_expert_of_another_bureau_moves_it_to_their_bureau(
    active: Consultation, expert: User, bureau_b: Bureau, online: Callable[[User], ExpertPresence], commit: Any
) -> None:
    there = new_expert(bureau_b, "there")
    online(there)

    commit(
        desk.transfer_consultation,
        actor=expert,
        consultation_id=active.pk,
        note="转交",
        to_expert_id=profile_of(there).pk,
    )

    assert (fresh(active).bureau, handled_by(active)) == (bureau_b, there)


@pytest.mark.parametrize("who", ["deputy", "colleague", "staff", "handler"])
def test_only_the_handling_expert_transfers(
    request: pytest.FixtureRequest, who: str, active: Consultation, bureau_b: Bureau, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        commit(
            desk.transfer_consultation, actor=actor, consultation_id=active.pk, note="转交", to_bureau_id=bureau_b.pk
        )

    assert not ConsultationTransfer.objects.exists()
    assert fresh(active).status == ConsultationStatus.ACTIVE


@pytest.mark.parametrize(
    ("note", "target", "field"),
    [("  ", "bureau", "note"), ("转交", "self", "to_expert_id"), ("转交", "nowhere", "to_bureau_id")],
)
def test_an_invalid_transfer_is_refused_naming_the_field(
    active: Consultation, expert: User, bureau_b: Bureau, commit: Callable[..., Any], note: str, target: str, field: str
) -> None:
    where = {
        "bureau": {"to_bureau_id": bureau_b.pk},
        "self": {"to_expert_id": profile_of(expert).pk},
        "nowhere": {"to_bureau_id": 999_999},
    }[target]

    with pytest.raises(InvalidInput) as refused:
        commit(desk.transfer_consultation, actor=expert, consultation_id=active.pk, note=note, **where)

    assert refused.value.field == field
    assert handled_by(active) == expert


def test_a_waiting_consultation_cannot_be_transferred(
    ask: Callable[..., Consultation], expert: User, bureau_b: Bureau, commit: Callable[..., Any]
) -> None:
    waiting = ask()

    with pytest.raises(InvalidTransition) as refused:
        commit(
            desk.transfer_consultation, actor=expert, consultation_id=waiting.pk, note="转交", to_bureau_id=bureau_b.pk
        )

    assert refused.value.code == "invalid_transition:transfer"


# --- ending, outcome, rating --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["deputy", "expert"])
def test_either_side_ends_the_consultation(
    request: pytest.FixtureRequest, who: str, active: Consultation, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)

    commit(desk.end_consultation, actor=actor, consultation_id=active.pk)

    ended = fresh(active)
    assert (ended.status, ended.ended_by) == (ConsultationStatus.ENDED, actor)
    assert ended.ended_at is not None
    assert len(system_lines(active)) == 3  # started, joined, ended
    assert mentions(system_lines(active)[-1], actor.full_name)


def test_a_deputy_withdraws_a_consultation_still_waiting(
    ask: Callable[..., Consultation], deputy: User, commit: Callable[..., Any]
) -> None:
    waiting = ask()

    commit(desk.end_consultation, actor=deputy, consultation_id=waiting.pk)

    assert fresh(waiting).status == ConsultationStatus.ENDED


@pytest.mark.parametrize("who", ["cosigner", "colleague", "staff", "outsider"])
def test_nobody_else_ends_a_consultation(
    request: pytest.FixtureRequest, who: str, active: Consultation, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        commit(desk.end_consultation, actor=actor, consultation_id=active.pk)

    assert fresh(active).status == ConsultationStatus.ACTIVE


def test_a_consultation_ends_only_once(active: Consultation, deputy: User, expert: User, commit: Any) -> None:
    commit(desk.end_consultation, actor=deputy, consultation_id=active.pk)

    with pytest.raises(InvalidTransition) as refused:
        commit(desk.end_consultation, actor=expert, consultation_id=active.pk)

    assert refused.value.code == "invalid_transition:end"
    assert fresh(active).ended_by == deputy


def test_the_expert_records_the_outcome(active: Consultation, expert: User, commit: Callable[..., Any]) -> None:
    commit(desk.end_consultation, actor=expert, consultation_id=active.pk)

    commit(
        desk.record_outcome,
        actor=expert,
        consultation_id=active.pk,
        outcome=Outcome.PROPOSAL,
        note=" 建议形成书面建议 ",
    )

    recorded = fresh(active)
    assert (recorded.outcome, recorded.outcome_note) == (Outcome.PROPOSAL, "建议形成书面建议")
    assert len(system_lines(active)) == 4  # started, joined, ended, outcome
    assert mentions(system_lines(active)[-1], str(Outcome.PROPOSAL.label))


@pytest.mark.parametrize("who", ["deputy", "colleague", "staff"])
def test_only_the_handling_expert_records_the_outcome(
    request: pytest.FixtureRequest, who: str, active: Consultation, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        commit(desk.record_outcome, actor=actor, consultation_id=active.pk, outcome=Outcome.ANSWERED)

    assert fresh(active).outcome == ""


def test_an_unknown_outcome_is_refused_naming_outcome(active: Consultation, expert: User, commit: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        commit(desk.record_outcome, actor=expert, consultation_id=active.pk, outcome="solved")

    assert refused.value.field == "outcome"


@pytest.mark.parametrize("rating", [1, 5])
def test_the_deputy_rates_an_ended_consultation_from_1_to_5(
    active: Consultation, deputy: User, commit: Callable[..., Any], rating: int
) -> None:
    commit(desk.end_consultation, actor=deputy, consultation_id=active.pk)

    commit(desk.rate_consultation, actor=deputy, consultation_id=active.pk, rating=rating, comment=" 答复清楚 ")

    assert (fresh(active).rating, fresh(active).rating_comment) == (rating, "答复清楚")


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_1_to_5_is_refused_naming_rating(
    active: Consultation, deputy: User, commit: Callable[..., Any], rating: int
) -> None:
    commit(desk.end_consultation, actor=deputy, consultation_id=active.pk)

    with pytest.raises(InvalidInput) as refused:
        commit(desk.rate_consultation, actor=deputy, consultation_id=active.pk, rating=rating)

    assert refused.value.field == "rating"
    assert fresh(active).rating is None


def test_a_consultation_nobody_took_cannot_be_rated(
    ask: Callable[..., Consultation], deputy: User, commit: Callable[..., Any]
) -> None:
    withdrawn = ask()
    commit(desk.end_consultation, actor=deputy, consultation_id=withdrawn.pk)

    with pytest.raises(InvalidTransition) as refused:
        commit(desk.rate_consultation, actor=deputy, consultation_id=withdrawn.pk, rating=3)

    assert refused.value.code == "invalid_transition:rate"
    assert fresh(withdrawn).rating is None


def test_a_consultation_in_progress_cannot_be_rated(active: Consultation, deputy: User, commit: Any) -> None:
    with pytest.raises(InvalidTransition) as refused:
        commit(desk.rate_consultation, actor=deputy, consultation_id=active.pk, rating=5)

    assert refused.value.code == "invalid_transition:rate"


@pytest.mark.parametrize("who", ["expert", "cosigner", "staff"])
def test_only_the_deputy_rates(
    request: pytest.FixtureRequest, who: str, active: Consultation, deputy: User, commit: Callable[..., Any]
) -> None:
    actor: User = request.getfixturevalue(who)
    commit(desk.end_consultation, actor=deputy, consultation_id=active.pk)

    with pytest.raises(NotAllowed):
        commit(desk.rate_consultation, actor=actor, consultation_id=active.pk, rating=1)

    assert fresh(active).rating is None


# --- figures ------------------------------------------------------------------------------------------------


def test_desk_figures_count_deputies_consultations_answers_the_queue_and_the_average_wait(
    expert: User,
    deputy: User,
    member: User,
    bureau_b: Bureau,
    online: Callable[[User], ExpertPresence],
    ask: Callable[..., Consultation],
    commit: Callable[..., Any],
) -> None:
    online(expert)
    answered, other = ask(deputy), ask(member)
    commit(desk.end_consultation, actor=expert, consultation_id=answered.pk)
    commit(desk.record_outcome, actor=expert, consultation_id=answered.pk, outcome=Outcome.ANSWERED)
    waiting = ask(deputy, bureau=bureau_b)
    start = timezone.now() - timedelta(hours=1)
    Consultation.objects.filter(pk__in=[answered.pk, other.pk, waiting.pk]).update(created_at=start)
    Consultation.objects.filter(pk=answered.pk).update(assigned_at=start + timedelta(seconds=60))
    Consultation.objects.filter(pk=other.pk).update(assigned_at=start + timedelta(seconds=120))

    figures = desk_figures(Consultation.objects.all())
    per_bureau = dict(desk_figures_per_bureau(Consultation.objects.all()))

    assert figures == DeskFigures(
        deputies_served=2,
        consultations=3,
        answered_on_the_spot=1,
        waiting_now=1,
        average_wait_seconds=90.0,
        active_now=1,  # other
        ended=1,  # answered
    )
    assert per_bureau[bureau_b].waiting_now == 1
    assert (per_bureau[bureau_b].active_now, per_bureau[bureau_b].ended) == (0, 0)
    assert per_bureau[bureau_b].average_wait_seconds is None


def test_desk_figures_of_nothing_are_zero_with_no_average(db: None) -> None:
    figures = desk_figures(Consultation.objects.none())

    assert (figures.consultations, figures.deputies_served, figures.waiting_now) == (0, 0, 0)
    assert figures.average_wait_seconds is None


# --- races on PostgreSQL ------------------------------------------------------------------------------------

ROUNDS = 5


@pytest.fixture
def postgresql(transactional_db: None) -> None:
    require_postgresql("a race (FOR UPDATE, SKIP LOCKED)")


def present_without_routing(*users: User) -> None:
    """Mark experts present directly, so that a queue can be built before anyone routes it."""
    for user in users:
        ExpertPresence.objects.update_or_create(
            expert=profile_of(user),
            defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
        )


def test_two_routing_passes_at_once_assign_a_consultation_exactly_once(
    postgresql: None, bureau_a: Bureau, deputy: User
) -> None:
    one, two = new_expert(bureau_a, "one"), new_expert(bureau_a, "two")
    for round_ in range(ROUNDS):
        consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic=f"同时分派{round_}")
        assert fresh(consultation).status == ConsultationStatus.QUEUED  # nobody present yet
        present_without_routing(one, two)

        outcomes = at_once(
            lambda: desk.route_bureau(bureau_id=bureau_a.pk), lambda: desk.route_bureau(bureau_id=bureau_a.pk)
        )

        assert failures(outcomes) == []
        assert sorted(len(outcome.value) for outcome in outcomes) == [0, 1]
        assert fresh(consultation).status == ConsultationStatus.ACTIVE
        assert handled_by(consultation) in (one, two)
        assert len(system_lines(consultation)) == 2  # started, and joined once
        desk.end_consultation(actor=deputy, consultation_id=consultation.pk)
        ExpertPresence.objects.update(status=PresenceStatus.OFFLINE, connections=0)


def crowd_at_once(bureau: Bureau, experts: list[User], deputies: list[User], round_: int) -> None:
    """Each deputy starts two consultations (each routed after its commit) while two routing passes run too."""

    def two_consultations(who: User) -> list[Consultation]:
        return [
            desk.start_consultation(actor=who, bureau_id=bureau.pk, topic=f"并发咨询{round_}-{n}") for n in range(2)
        ]

    outcomes = at_once(
        *[lambda who=who: two_consultations(who) for who in deputies],
        lambda: desk.route_bureau(bureau_id=bureau.pk),
        lambda: desk.route_bureau(bureau_id=bureau.pk),
    )
    assert failures(outcomes) == []


@pytest.fixture
def crowd(postgresql: None, bureau_a: Bureau) -> tuple[list[User], list[User]]:
    """Four present experts with two places each (8 places) and six deputies who will ask twice (12 asks)."""
    experts = [new_expert(bureau_a, f"cap{i}", capacity=2) for i in range(4)]
    deputies = [DeputyProfileFactory(user__username=f"racer{i}").user for i in range(6)]
    present_without_routing(*experts)
    return experts, deputies


def test_many_deputies_and_routing_passes_at_once_assign_each_consultation_at_most_once(
    crowd: tuple[list[User], list[User]], bureau_a: Bureau
) -> None:
    experts, deputies = crowd
    for round_ in range(ROUNDS):
        crowd_at_once(bureau_a, experts, deputies, round_)

        for consultation in Consultation.objects.exclude(status=ConsultationStatus.ENDED):
            joined = len(system_lines(consultation)) - 1  # after "started"
            assert joined == (consultation.expert_id is not None), (consultation.pk, system_lines(consultation))
        Consultation.objects.update(status=ConsultationStatus.ENDED)


def test_many_deputies_and_routing_passes_at_once_never_overload_an_expert(
    crowd: tuple[list[User], list[User]], bureau_a: Bureau
) -> None:
    experts, deputies = crowd
    for round_ in range(ROUNDS):
        crowd_at_once(bureau_a, experts, deputies, round_)

        load = {
            user.username: Consultation.objects.filter(expert__user=user, status=ConsultationStatus.ACTIVE).count()
            for user in experts
        }
        assert max(load.values()) <= 2, (round_, load)
        assert sum(load.values()) == 8  # every place taken: 12 asked, 8 places
        assert Consultation.objects.filter(status=ConsultationStatus.QUEUED).count() == 4
        Consultation.objects.update(status=ConsultationStatus.ENDED)
