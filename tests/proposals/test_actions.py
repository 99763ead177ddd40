"""One name per action (``proposals.actions``): the service, the transition table, the timeline, the labels, the
page registry and the API all use the Action's value, and nothing else."""

from __future__ import annotations

from frontend.views_proposals.registry import ACTIONS
from proposals import services
from proposals.actions import CAUSED_BY, Action, Outcome
from proposals.events import ACTION_LABELS
from proposals.transitions import ACTION_VERBS, ALLOWED_FROM


def test_every_action_is_a_service_of_the_same_name() -> None:
    missing = [action.value for action in Action if not callable(getattr(services, action.value, None))]

    assert not missing


def test_the_transition_table_and_its_verbs_are_keyed_by_actions() -> None:
    assert all(isinstance(key, Action) for key in ALLOWED_FROM)
    assert set(ACTION_VERBS) == set(ALLOWED_FROM)
    assert set(Action) - set(ALLOWED_FROM) == {Action.CREATE_DRAFT}  # creating needs no state


def test_every_timeline_entry_has_a_label_and_every_outcome_a_cause() -> None:
    assert set(ACTION_LABELS) == set(Action) | set(Outcome)
    assert set(CAUSED_BY) == set(Outcome)


def test_the_page_registry_is_keyed_by_actions() -> None:
    assert all(isinstance(key, Action) for key in ACTIONS)
    # the draft form has its own page; withdrawing an assignment is done through the API (re-assigning re-plans)
    assert set(Action) - set(ACTIONS) == {Action.CREATE_DRAFT, Action.UPDATE_DRAFT, Action.WITHDRAW_ASSIGNMENT}


def test_every_api_action_is_named_after_its_action() -> None:
    from proposals.api import ProposalViewSet

    posted = {
        extra.url_path for extra in ProposalViewSet.get_extra_actions() if "post" in extra.mapping and extra.detail
    }
    named = {action.api_path for action in Action}

    assert posted - {"attachments"} <= named  # attachments: a file upload, the REST resource of ATTACH
    assert {a.api_path for a in ALLOWED_FROM} - {"attach", "remove-attachment", "update-draft"} <= posted
