"""The live-event catalogue is the one list of events: the protocol documents match it, and nothing sends
around it."""

from __future__ import annotations

import re

from consult.realtime.catalogue import catalogue
from tests.conftest import REPO_ROOT

SOURCE_DIRS = ("consult", "chat", "proposals", "search", "transcription", "frontend")


def readme_table() -> set[tuple[str, str, str, str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- live-events:start -->")[1].split("<!-- live-events:end -->")[0]
    rows = set()
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].startswith("`"):
            rows.add((cells[0], cells[1], cells[2].strip("`"), cells[3]))
    return rows


def test_the_readme_table_is_the_catalogue() -> None:
    declared = {(e.socket, e.topic, e.name, e.doc) for e in catalogue()}

    assert readme_table() == declared


def test_every_chat_event_is_a_server_frame_in_the_protocol_document() -> None:
    protocol = (REPO_ROOT / "chat" / "PROTOCOL.md").read_text(encoding="utf-8")
    server_frames = set(re.findall(r'\{"v":\s*1,\s*"type":\s*"([a-z_.]+)"', protocol))

    missing = {e.name for e in catalogue() if e.socket == "chat"} - server_frames

    assert not missing, f"chat events not documented in chat/PROTOCOL.md: {sorted(missing)}"


def test_no_code_sends_to_the_channel_layer_around_the_catalogue() -> None:
    allowed = {REPO_ROOT / "consult" / "realtime" / "catalogue.py"}
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in SOURCE_DIRS
        for path in (REPO_ROOT / folder).rglob("*.py")
        if path not in allowed and "group_send(" in path.read_text(encoding="utf-8")
    ]

    assert not offenders, f"live events must go through consult.realtime.catalogue.publish: {offenders}"
