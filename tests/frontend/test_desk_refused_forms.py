"""The desk's refused forms stay on their own page (issue 15.5, decision 0016): the POST answers 303 to the page
that shows the form, the page shows it once with what was typed, its messages and the refusal's status, and a
reload (GET again) shows the page clean, posting nothing."""

from __future__ import annotations

from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from consult.models import Bureau, Consultation, ConsultationPeriod, ConsultationStatus, User
from tests.frontend.test_desk_pages import active, alerts, ended, error_beside, present
from tests.frontend.test_pages import signed_in

__all__ = ["active", "ended"]  # fixtures


def test_a_refused_start_goes_back_to_the_desk_with_the_reason_and_what_was_typed(
    deputy: User, bureau_a: Bureau
) -> None:
    client = signed_in(deputy)
    form = {"bureau_id": bureau_a.pk, "topic": "  ", "expert_id": ""}

    response = client.post("/desk/start/", form)

    assertRedirects(response, "/desk/", status_code=303, fetch_redirect_response=False)
    page = client.get("/desk/")
    assert page.status_code == 400
    assert error_beside(page, "topic") == ["请说明您要咨询的问题"]
    assertContains(page, f'<option value="{bureau_a.pk}" selected>市教委</option>', html=True, status_code=400)
    again = client.get("/desk/")  # a reload: the page as it is now, nothing posted
    assert again.status_code == 200
    assert error_beside(again, "topic") == []
    assert not Consultation.objects.exists()


def test_a_refused_start_keeps_the_typed_topic(deputy: User, expert: User, bureau_b: Bureau) -> None:
    client = signed_in(deputy)
    form = {"bureau_id": bureau_b.pk, "expert_id": expert.expert_profile.pk, "topic": "公交线路调整"}

    assertRedirects(client.post("/desk/start/", form), "/desk/", status_code=303, fetch_redirect_response=False)

    page = client.get("/desk/")
    assert page.status_code == 400
    assert error_beside(page, "expert_id") == ["该专家不属于此委办局"]
    assertContains(page, "公交线路调整", status_code=400)
    assertNotContains(client.get("/desk/"), "该专家不属于此委办局")


def test_a_refused_room_action_goes_back_to_the_room_with_the_services_status(
    active: Consultation, deputy: User
) -> None:
    client = signed_in(deputy)
    url = f"/desk/consultations/{active.pk}/"

    response = client.post(f"{url}rate/", {"rating": "5", "comment": "很好"})

    assertRedirects(response, url, status_code=303, fetch_redirect_response=False)
    page = client.get(url)
    assert page.status_code == 409
    assert alerts(page) == ["咨询结束后才能评价"]
    again = client.get(url)
    assert again.status_code == 200
    assert alerts(again) == []


def test_a_refused_transfer_shows_the_typed_note_and_the_reason_beside_the_field(
    active: Consultation, expert: User, bureau_b: Bureau
) -> None:
    client = signed_in(expert)
    url = f"/desk/consultations/{active.pk}/"
    form = {"to_expert_id": "999999", "to_bureau_id": "", "note": "请交给更熟悉的同事"}

    assertRedirects(client.post(f"{url}transfer/", form), url, status_code=303, fetch_redirect_response=False)

    page = client.get(url)
    assert page.status_code == 400
    assertContains(page, "请交给更熟悉的同事", status_code=400)
    assertContains(page, '<details class="more" open>', status_code=400)
    assertNotContains(client.get(url), "请交给更熟悉的同事")
    active.refresh_from_db()
    assert active.status == ConsultationStatus.ACTIVE


def test_a_refused_presence_goes_back_to_the_workbench(expert: User) -> None:
    client = signed_in(expert)
    present(expert)

    response = client.post("/desk/workbench/presence/", {"status": "offline"})

    assertRedirects(response, "/desk/workbench/", status_code=303, fetch_redirect_response=False)
    page = client.get("/desk/workbench/")
    assert page.status_code == 400
    assert len(error_beside(page, "status")) == 1
    again = client.get("/desk/workbench/")
    assert again.status_code == 200
    assert error_beside(again, "status") == []


def test_a_refused_period_goes_back_to_the_statistics_with_what_was_typed(staff: User, bureau_a: Bureau) -> None:
    client = signed_in(staff)
    form = {"name": "两会专场", "starts_at": "2027-03-01T17:00", "ends_at": "2027-03-01T09:00"}
    form["bureau_ids"] = str(bureau_a.pk)

    response = client.post("/desk/statistics/period/", form)

    assertRedirects(response, "/desk/statistics/", status_code=303, fetch_redirect_response=False)
    page = client.get("/desk/statistics/")
    assert page.status_code == 400
    assert error_beside(page, "ends_at") == ["结束时间必须晚于开始时间"]
    assertContains(page, 'value="两会专场"', status_code=400)
    again = client.get("/desk/statistics/")
    assert again.status_code == 200
    assert error_beside(again, "ends_at") == []
    assert not ConsultationPeriod.objects.exists()
