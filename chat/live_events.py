"""Live events of a consultation's chat socket (``/ws/consultations/<id>/``, see chat/PROTOCOL.md)."""

from __future__ import annotations

from typing import Any, TypedDict

from consult.realtime.catalogue import declare


class MessageFrame(TypedDict):
    message: dict[str, Any]  # chat.selectors.message_payload


class ChangeFrame(TypedDict):
    message: dict[str, Any]  # chat.selectors.message_payload, after the change
    change: int  # the consultation's change number of this edit or deletion (PROTOCOL.md rule 7)


class ReadFrame(TypedDict):
    user: int
    seq: int


class TypingFrame(TypedDict):
    user: int
    name: str


class TranscriptSegmentFrame(TypedDict):
    start: float  # seconds into the clip
    end: float
    text: str


class TranscriptFrame(TypedDict):
    message_id: int  # the voice message
    id: int  # the transcript
    status: str  # "queued" | "running" | "done" | "failed"
    text: str  # the current text (the latest correction, else the machine's); "" until done
    corrected: bool
    segments: list[TranscriptSegmentFrame]  # the machine's, with times; [] until done


class PlayedFrame(TypedDict):
    message_id: int  # the voice message
    user: int  # who played it (first time only)


MESSAGE = declare("message", socket="chat", topic="chat", payload=MessageFrame, doc="a new message (by number)")
EDITED = declare("edited", socket="chat", topic="chat", payload=ChangeFrame, doc="a message was edited")
DELETED = declare("deleted", socket="chat", topic="chat", payload=ChangeFrame, doc="a message was withdrawn")
READ = declare("read", socket="chat", topic="chat", payload=ReadFrame, doc="someone read up to a number")
TYPING = declare("typing", socket="chat", topic="chat", payload=TypingFrame, doc="someone is typing (never stored)")
TRANSCRIPT = declare(
    "transcript", socket="chat", topic="chat", payload=TranscriptFrame, doc="a voice message's transcript changed"
)
PLAYED = declare("played", socket="chat", topic="chat", payload=PlayedFrame, doc="a voice message was played")


class ConsultationMessage(TypedDict):
    seq: int  # the message's number in its consultation
    sender: int  # who wrote it


# On the live socket's consultation topic (not the chat socket): pages that list consultations without opening
# their chat (the expert's workbench) update unread badges and alert at once.
CONSULTATION_MESSAGE = declare(
    "consultation.message",
    socket="live",
    topic="consultation",
    payload=ConsultationMessage,
    doc="a new message in the consultation (unread badges and alerts of pages that list it)",
)


class CallParticipantFrame(TypedDict):
    user: int
    name: str
    role: str  # "deputy" | "expert"
    joined: bool  # has published audio in this call


class CallStateFrame(TypedDict):
    id: int
    state: str  # "ringing" | "active" | "ended" | "missed" | "declined"
    started_by: int
    started_at: str
    answered_at: str | None
    ended_at: str | None
    recorded: bool  # the server records each speaker (show the notice before audio flows)
    ring_seconds: int
    participants: list[CallParticipantFrame]


class CallFrame(TypedDict):
    call: CallStateFrame  # chat.calls.call_payload


CALL = declare("call", socket="chat", topic="chat", payload=CallFrame, doc="a call started, was answered or ended")


class CaptionFrame(TypedDict):
    call: int
    user: int  # the speaker
    name: str
    line: int  # the speaker's line number in this call; a later frame of the same line replaces it
    text: str
    final: bool  # the line is complete (a pause, or the window's length)
    latency_ms: int  # from the arrival of the oldest audio in this update to this frame's sending


# Topic "call": the group of one call's participants (sockets that publish media in it), not every reader.
CAPTION = declare(
    "call.caption", socket="chat", topic="call", payload=CaptionFrame, doc="a live caption line of a call's speaker"
)
