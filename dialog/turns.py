"""Data passed between the dialog engine and the call loop."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Action(StrEnum):
    ANSWER = "answer"  # the reply answers the caller's question
    CLARIFY = "clarify"  # the reply asks the caller to choose, repeat or complete something
    ESCALATE = "escalate"  # hand the call to a human agent (see BotTurn.handoff)
    MENU = "menu"  # greeting, menu and category prompts, reprompts after silence
    GOODBYE = "goodbye"  # closing words; hang up after speaking (end_call is True)


class Reason(StrEnum):
    """Why a call is handed to an agent (Handoff.reason)."""

    AGENT_REQUEST = "agent_request"
    LOW_CONFIDENCE = "low_confidence"
    FRUSTRATION = "frustration"
    REQUIRES_STAFF = "requires_staff"
    EMERGENCY = "emergency"
    FOREIGN_LANGUAGE = "foreign_language"
    SYSTEM_ERROR = "system_error"  # speech recognition or synthesis failed inside the call (the call driver)


# What the bot waits for after a turn: a menu choice (keypad or speech), a free question, a yes/no
# answer, a choice between offered options, a slot value (e.g. a district name), or nothing.
Expects = Literal["menu", "question", "yes_no", "choice", "slot", "none"]


@dataclass(frozen=True)
class Handoff:
    """Everything an agent needs to pick the call up without asking the caller to start over."""

    reason: Reason
    category: str | None
    intent: str | None
    caller_utterances: tuple[str, ...]
    bot_replies: tuple[str, ...]
    timestamp: dt.datetime
    language: str
    detail: str = ""
    call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": str(self.reason),
            "category": self.category,
            "intent": self.intent,
            "caller_utterances": list(self.caller_utterances),
            "bot_replies": list(self.bot_replies),
            "timestamp": self.timestamp.isoformat(),
            "language": self.language,
            "detail": self.detail,
            "call_id": self.call_id,
        }


@dataclass(frozen=True)
class BotTurn:
    """One bot reply. ``interruptible`` is False only for emergency instructions (the caller must
    hear 119/112 in full) and for the closing goodbye; every other prompt allows barge-in."""

    action: Action
    reply: str
    category: str | None = None
    intent: str | None = None
    confidence: float = 0.0
    end_call: bool = False
    handoff: Handoff | None = None
    expects: Expects = "question"
    interruptible: bool = True
    sms_text: str | None = None  # the caller accepted a text message: send this to their number
    # The reply for text channels (chat, KakaoTalk) when the KB entry has a chat answer; else ``reply``.
    text_reply: str | None = None


@dataclass
class HistoryItem:
    """One event of the call, caller or bot side, in order."""

    role: Literal["caller", "bot"]
    kind: str  # caller: speech | dtmf | no_input | barge_in; bot: the Action value
    text: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    language: str | None = None
    turn: BotTurn | None = None
    interrupted: bool = False  # bot prompts only: the caller barged in


def turn_to_dict(turn: BotTurn) -> dict[str, Any]:
    """The JSON contract of ``voicebot ask --json`` (action, category, intent, confidence, reply)
    plus the remaining turn fields for callers that want them."""
    return {
        "action": str(turn.action),
        "category": turn.category,
        "intent": turn.intent,
        "confidence": round(float(turn.confidence), 3),
        "reply": turn.reply,
        "end_call": turn.end_call,
        "expects": turn.expects,
        "interruptible": turn.interruptible,
        "handoff": turn.handoff.to_dict() if turn.handoff else None,
    }
