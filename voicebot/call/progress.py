"""What a caller's screen shows while the call goes on: call state, transcript lines, and why it ended.

The messages are JSON objects handed to ``Transport.publish``; the browser page renders them, a phone line
drops them. They carry what the caller said (personal data): they go to the caller's own page only.
"""

from __future__ import annotations

from collections.abc import Callable

from voicebot.call.protocols import CallHandler

# What the page shows when the call ends, by reason (Korean first: the caller reads it).
ENDED_KO = {
    "goodbye": "통화가 종료되었습니다. 이용해 주셔서 감사합니다.",
    "transfer": "상담원 연결 요청이 접수되었습니다. 통화를 종료합니다.",
    "caller_hangup": "통화를 종료했습니다. 이용해 주셔서 감사합니다.",
    "timeout": "최대 통화 시간이 지나 통화를 종료했습니다. 필요하시면 다시 걸어 주세요.",
    "media_timeout": "음성이 한동안 전달되지 않아 통화를 종료했습니다. 다시 걸어 주세요.",
    "error": "죄송합니다. 통화 중 문제가 생겨 통화를 종료했습니다. 잠시 후 다시 걸어 주세요.",
    "shutdown": "서비스 점검으로 통화를 종료했습니다. 잠시 후 다시 걸어 주세요.",
}
CALLBACK_KO = "상담원 연결 요청이 접수되었습니다. 상담원이 확인하는 대로 다시 연락드리겠습니다."

# Handler events that change what the page says the call is doing.
_STATE_EVENTS = {"speech_start": "listening", "utterance": "thinking", "bot_reply": "speaking"}


def ended_message(reason: str, callback_requested: bool | None = None) -> dict:
    text = CALLBACK_KO if callback_requested else ENDED_KO.get(reason, ENDED_KO["caller_hangup"])
    return {"type": "ended", "reason": reason, "message": text}


class Progress:
    """Publishes what is new in a handler since the last ``update``."""

    def __init__(self, handler: CallHandler, publish: Callable[[dict], None]):
        self.handler = handler
        self.publish = publish
        self._turns = 0
        self._events = 0
        self._bot_was_speaking = False

    def update(self) -> None:
        handler = self.handler
        events = handler.events
        for event in events[self._events :]:
            state = _STATE_EVENTS.get(event.kind)
            if state:
                self.publish({"type": "state", "state": state})
            elif event.kind == "barge_in":
                self.publish({"type": "barge_in", "turn": self._turns - 1})
        self._events = len(events)
        speaking = handler.bot_speaking
        if self._bot_was_speaking and not speaking and handler.ended_reason is None:
            self.publish({"type": "state", "state": "waiting"})  # the prompt has played: the caller's turn
        self._bot_was_speaking = speaking
        turns = handler.turns
        for position, turn in enumerate(turns[self._turns :], start=self._turns):
            self._transcript(turn.as_dict(), position)
        self._turns = len(turns)

    def _transcript(self, turn: dict, position: int) -> None:
        # ARS turns say trigger/caller_text; outbound script turns say via/answer
        trigger = turn.get("trigger") or turn.get("via")
        said = turn.get("caller_text") or turn.get("answer")
        index = turn.get("index", position)
        if trigger in ("speech", "dtmf") and said:
            self.publish(
                {"type": "transcript", "speaker": "caller", "trigger": trigger, "text": said, "turn": index}
            )
        self.publish(
            {
                "type": "transcript",
                "speaker": "bot",
                "trigger": trigger,
                "text": turn.get("bot_text", ""),
                "turn": index,
                "action": turn.get("action"),
                "category": turn.get("category"),
                "choices": turn.get("choices", []),
            }
        )
