"""转为建议: a consultation the deputy had pre-fills a proposal draft with its topic, bureau and a link back."""

from __future__ import annotations

from django.test import Client

from consult.desk import services as desk
from consult.models import Bureau, User
from proposals.models import ProposalSession
from tests.proposals import conftest as proposal_fixtures

npc_session = proposal_fixtures.npc_session


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_new_proposal_form_is_prefilled_from_the_deputys_consultation(
    deputy: User, bureau_a: Bureau, npc_session: ProposalSession
) -> None:
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="翠湖新村学区划分")

    response = signed_in(deputy).get(f"/proposals/new/?consultation={consultation.pk}")

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="翠湖新村学区划分"' in page
    assert f"/desk/consultations/{consultation.pk}/" in page
    assert f'<option value="{bureau_a.pk}" selected>' in page


def test_someone_elses_consultation_prefills_nothing(
    deputy: User, cosigner: User, bureau_a: Bureau, npc_session: ProposalSession
) -> None:
    theirs = desk.start_consultation(actor=cosigner, bureau_id=bureau_a.pk, topic="别人的咨询")

    response = signed_in(deputy).get(f"/proposals/new/?consultation={theirs.pk}")

    assert response.status_code == 200
    assert "别人的咨询" not in response.content.decode()
