"""The chat's JSON API: history after a number, posting idempotently by client id, files and their download.

The same messages as the socket (``chat.selectors.message_payload``); the scope is ``can_read`` (404 outside).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from chat import services as chat
from chat.models import Message, MessageKind
from chat.selectors import message_payload
from consult.desk import services as desk
from consult.models import Bureau, Consultation, ConsultationStatus, ExpertPresence, PresenceStatus, User

ClientFor = Callable[[User], Client]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture
def client_for() -> ClientFor:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def active(deputy: User, expert: User, bureau_a: Bureau) -> Consultation:
    """王建国 consults 市教委; 陈志远 takes it (messages 1 and 2 are the started and joined lines)."""
    ExpertPresence.objects.update_or_create(
        expert=expert.expert_profile,
        defaults={"status": PresenceStatus.ONLINE, "connections": 1, "last_seen": timezone.now()},
    )
    consultation = desk.start_consultation(actor=deputy, bureau_id=bureau_a.pk, topic="东湖区小学学区划分调整")
    desk.route_bureau(bureau_id=bureau_a.pk)
    consultation.refresh_from_db()
    assert consultation.status == ConsultationStatus.ACTIVE
    return consultation


def messages_url(consultation: Consultation) -> str:
    return f"/api/consultations/{consultation.pk}/messages/"


def files_url(consultation: Consultation) -> str:
    return f"/api/consultations/{consultation.pk}/files/"


def send(client: Client, consultation: Consultation, client_id: str, body: str) -> Any:
    return client.post(
        messages_url(consultation), {"client_id": client_id, "body": body}, content_type="application/json"
    )


def upload(client: Client, consultation: Consultation, name: str, content: bytes, client_id: str = "f-1") -> Any:
    return client.post(files_url(consultation), {"client_id": client_id, "file": SimpleUploadedFile(name, content)})


def error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    if code is not None:
        assert body["code"] == code
    return body


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


# --- history ------------------------------------------------------------------------------------


def test_history_gives_the_socket_shape_after_a_number(
    client_for: ClientFor, deputy: User, expert: User, active: Consultation
) -> None:
    for n in range(3):
        chat.post_message(actor=deputy, consultation_id=active.pk, client_id=f"c-{n}", body=f"第{n}条")

    response = client_for(expert).get(messages_url(active), {"after": 2})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "more", "last_seq"}
    assert [item["seq"] for item in body["items"]] == [3, 4, 5]
    assert body["items"][0] == message_payload(Message.objects.get(consultation=active, seq=3))
    assert (body["more"], body["last_seq"]) == (False, 5)


def test_history_pages_with_limit_and_more(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    client = client_for(deputy)

    first = client.get(messages_url(active), {"after": 0, "limit": 1}).json()
    rest = client.get(messages_url(active), {"after": first["items"][-1]["seq"]}).json()

    assert [item["seq"] for item in first["items"]] == [1]
    assert first["more"] is True
    assert [item["kind"] for item in first["items"]] == [MessageKind.SYSTEM]
    assert [item["seq"] for item in rest["items"]] == [2]
    assert rest["more"] is False


@pytest.mark.parametrize("query", [{"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 201}])
def test_history_with_a_bad_query_gives_400(
    client_for: ClientFor, deputy: User, active: Consultation, query: dict[str, Any]
) -> None:
    body = error(client_for(deputy).get(messages_url(active), query), 400, "invalid_input")

    assert set(body["fields"]) <= {"after", "limit"}


@pytest.mark.parametrize("persona", ["cosigner", "outsider", "handler"])
def test_a_stranger_gets_404_for_history_posting_and_files(
    client_for: ClientFor, active: Consultation, request: pytest.FixtureRequest, persona: str
) -> None:
    client = client_for(request.getfixturevalue(persona))

    error(client.get(messages_url(active)), 404, "not_found")
    error(send(client, active, "c-1", "你好"), 404, "not_found")
    error(upload(client, active, "a.png", PNG), 404, "not_found")
    assert Message.objects.filter(consultation=active).count() == 2


def test_an_unknown_consultation_is_404(client_for: ClientFor, deputy: User) -> None:
    error(client_for(deputy).get("/api/consultations/999999/messages/"), 404, "not_found")


def test_office_reads_the_history(client_for: ClientFor, staff: User, active: Consultation) -> None:
    assert client_for(staff).get(messages_url(active)).status_code == 200


# --- posting ------------------------------------------------------------------------------------------


def test_posting_is_idempotent_by_client_id(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    client = client_for(deputy)

    first = send(client, active, "c-1", "翠湖新村的孩子能否就近入学？")
    retry = send(client, active, "c-1", "翠湖新村的孩子能否就近入学？")

    assert first.status_code == 201, first.content
    assert retry.status_code == 200, retry.content
    assert retry.json() == first.json()
    assert first.json()["seq"] == 3
    assert first.json()["sender"] == deputy.pk
    assert Message.objects.filter(consultation=active, client_id="c-1").count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"client_id": "c-1", "body": "  "}, "body"),
        ({"body": "你好"}, "client_id"),
        ({"client_id": "x" * 65, "body": "你好"}, "client_id"),
        ({"client_id": "c-1", "body": "长" * 2001}, "body"),
    ],
)
def test_posting_bad_input_gives_400_naming_the_field(
    client_for: ClientFor, deputy: User, active: Consultation, data: dict[str, Any], field: str
) -> None:
    response = client_for(deputy).post(messages_url(active), data, content_type="application/json")

    body = error(response, 400, "invalid_input")
    assert field in body["fields"]


def test_office_reads_but_cannot_post(client_for: ClientFor, staff: User, active: Consultation) -> None:
    error(send(client_for(staff), active, "c-1", "你好"), 403, "not_allowed")


def test_posting_after_the_end_is_409(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    desk.end_consultation(actor=deputy, consultation_id=active.pk)

    error(send(client_for(deputy), active, "c-1", "还有一个问题"), 409, "consultation_ended")


def test_posting_shares_the_sockets_send_budget(
    client_for: ClientFor, deputy: User, active: Consultation, settings: Any
) -> None:
    settings.CHAT_SEND_RATE_PER_MINUTE = 0

    error(send(client_for(deputy), active, "c-1", "你好"), 429, "rate_limited")

    assert not Message.objects.filter(consultation=active, client_id="c-1").exists()


# --- files ---------------------------------------------------------------------------------------------


def test_an_image_is_posted_listed_and_shown_inline(
    client_for: ClientFor, deputy: User, expert: User, active: Consultation
) -> None:
    response = upload(client_for(deputy), active, "学区图.png", PNG)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == MessageKind.IMAGE
    assert body["file"] == {
        "name": "学区图.png",
        "size": len(PNG),
        "content_type": "image/png",
        "url": f"{files_url(active)}{body['id']}/",
    }
    history = client_for(expert).get(messages_url(active), {"after": 2}).json()
    assert history["items"] == [body]
    download = client_for(expert).get(body["file"]["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("inline")
    assert b"".join(download.streaming_content) == PNG


def test_a_document_is_posted_and_downloaded_as_an_attachment(
    client_for: ClientFor, deputy: User, staff: User, active: Consultation
) -> None:
    body = upload(client_for(deputy), active, "../../情况说明.pdf", PDF).json()

    assert body["kind"] == MessageKind.FILE
    assert body["file"]["name"] == "情况说明.pdf"
    download = client_for(staff).get(f"{files_url(active)}{body['id']}/")  # the office reads it too
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF


def test_a_retried_upload_stores_one_message_and_one_file(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path
) -> None:
    client = client_for(deputy)

    first = upload(client, active, "a.png", PNG, client_id="f-9")
    retry = upload(client, active, "a.png", PNG, client_id="f-9")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert len(stored_files(media)) == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ" + b"\x00" * 64),  # a type not allowed
        ("photo.png", b"GIF89a" + b"\x00" * 64),  # content that is not what the name says
        ("report.pdf", b"<html>" + b"\x00" * 64),
        ("empty.pdf", b""),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024)),  # over 10 MiB
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)),  # an image over 5 MiB
    ],
    ids=["type", "png-content", "pdf-content", "empty", "file-over-10-mib", "image-over-5-mib"],
)
def test_a_bad_file_gives_400_naming_file_and_stores_nothing(
    client_for: ClientFor, deputy: User, active: Consultation, media: Path, name: str, content: bytes
) -> None:
    response = upload(client_for(deputy), active, name, content)

    body = error(response, 400, "invalid_input")
    assert "file" in body["fields"]
    assert Message.objects.filter(consultation=active).count() == 2
    assert stored_files(media) == []


def test_an_upload_without_a_file_gives_400_naming_file(
    client_for: ClientFor, deputy: User, active: Consultation
) -> None:
    response = client_for(deputy).post(files_url(active), {"client_id": "f-1"})

    assert "file" in error(response, 400, "invalid_input")["fields"]


def test_office_cannot_upload_and_nothing_is_stored(
    client_for: ClientFor, staff: User, active: Consultation, media: Path
) -> None:
    error(upload(client_for(staff), active, "a.png", PNG), 403, "not_allowed")

    assert stored_files(media) == []


def test_uploading_after_the_end_is_409(client_for: ClientFor, deputy: User, active: Consultation) -> None:
    desk.end_consultation(actor=deputy, consultation_id=active.pk)

    error(upload(client_for(deputy), active, "a.png", PNG), 409, "consultation_ended")


def test_the_file_service_checks_content_like_proposal_attachments(deputy: User, active: Consultation) -> None:
    message, created = chat.post_file_message(
        actor=deputy,
        consultation_id=active.pk,
        client_id="s-1",
        name="C:\\照片.JPG",
        size=8,
        stream=io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 4),
    )

    assert created
    assert (message.kind, message.file_name, message.content_type) == (MessageKind.IMAGE, "照片.JPG", "image/jpeg")


# --- downloads stay in scope ------------------------------------------------------------------------


def test_a_download_outside_the_scope_is_404(
    client_for: ClientFor, deputy: User, outsider: User, active: Consultation
) -> None:
    body = upload(client_for(deputy), active, "a.png", PNG).json()

    error(client_for(outsider).get(f"{files_url(active)}{body['id']}/"), 404, "not_found")


def test_a_text_message_or_a_deleted_file_has_nothing_to_download(
    client_for: ClientFor, deputy: User, active: Consultation
) -> None:
    client = client_for(deputy)
    text = send(client, active, "c-1", "你好").json()
    image = upload(client, active, "a.png", PNG).json()
    chat.delete_message(actor=deputy, consultation_id=active.pk, message_id=image["id"])

    error(client.get(f"{files_url(active)}{text['id']}/"), 404, "not_found")
    error(client.get(f"{files_url(active)}{image['id']}/"), 404, "not_found")


def test_a_file_of_another_consultation_is_404(
    client_for: ClientFor, deputy: User, active: Consultation, bureau_b: Bureau
) -> None:
    other = desk.start_consultation(actor=deputy, bureau_id=bureau_b.pk, topic="公交线路")
    body = upload(client_for(deputy), active, "a.png", PNG).json()

    error(client_for(deputy).get(f"{files_url(other)}{body['id']}/"), 404, "not_found")
