"""Quick replies: the buttons a text channel shows under the bot's message, worked out from the dialog turn.

A quick reply does what the caller on the phone would do: a menu button is the keypad digit
(``DialogSession.on_dtmf``), a choice between the two options of a clarifying question is 1 or 2, "네" and
"아니요" are the words (``on_speech``), and "처음으로" starts a new dialog. KakaoTalk sends a pressed quick
reply back as an ordinary message (its ``messageText``), so :func:`match_offered` maps a message that is
exactly one of the offered texts back to the button.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from . import prompts
from .turns import BotTurn

Kind = Literal["key", "text", "restart"]

KAKAO_LABEL_CHARS = 14  # Kakao i Open Builder shows at most 14 characters of a quick reply's label
KAKAO_MAX_QUICK_REPLIES = 10


@dataclass(frozen=True)
class QuickReply:
    id: str  # stable within one offer: key-1, choice-2, yes, no, home, agent, restart
    label: str  # what the button says (also what KakaoTalk sends back when it is pressed)
    kind: Kind  # key: on_dtmf(value); text: on_speech(value); restart: a new dialog
    value: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuickReply:
        return cls(str(data["id"]), str(data["label"]), data["kind"], str(data.get("value", "")))


MENU_ORDER = ("0", "1", "2", "3", "4", "9")
HOME = QuickReply("home", "처음 메뉴", "key", "#")
AGENT_KEY = QuickReply("agent", "상담원 연결", "key", "0")  # in a sub-menu 0 connects to an agent
AGENT_TEXT = QuickReply(
    "agent", "상담원 연결", "text", "상담원 연결해 주세요"
)  # in the main menu 0 is COVID-19
YES = QuickReply("yes", "네", "text", "네")
NO = QuickReply("no", "아니요", "text", "아니요")
RESTART = QuickReply("restart", "처음으로", "restart")
NEW_CHAT = QuickReply("restart", "새 상담 시작", "restart")


def _template_pattern(template: str) -> re.Pattern[str]:
    """``"{a} 문의이신가요, 아니면 {b} 문의이신가요?"`` -> a regex capturing a and b."""
    parts = re.split(r"\{([ab])\}", template)
    pattern = "".join(f"(?P<{p}>.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    return re.compile(f"^{pattern}$")


_TWO_OPTIONS = (_template_pattern(prompts.CLARIFY_TWO), _template_pattern(prompts.CLARIFY_TWO_EN))


def choice_titles(reply: str) -> tuple[str, str] | None:
    """The two options a clarifying question offers, read from its wording (``dialog.prompts``)."""
    for pattern in _TWO_OPTIONS:
        found = pattern.match(reply.strip())
        if found:
            return found["a"].strip(), found["b"].strip()
    return None


def for_turn(turn: BotTurn, *, ended: bool) -> list[QuickReply]:
    """The quick replies that fit what the bot now waits for (``turn.expects``)."""
    if ended or turn.expects == "none":
        return [NEW_CHAT] if str(turn.action) == "goodbye" else [RESTART]
    if turn.expects == "menu":
        names = prompts.CATEGORY_NAMES
        keys = [
            QuickReply(f"key-{d}", names[prompts.CATEGORY_BY_DIGIT[d]], "key", d)
            for d in MENU_ORDER
            if d in prompts.CATEGORY_BY_DIGIT
        ]
        return [*keys, AGENT_TEXT]
    if turn.expects == "choice":
        titles = choice_titles(turn.reply)
        if titles is not None:
            a, b = titles
            return [
                QuickReply("choice-1", a, "key", "1"),
                QuickReply("choice-2", b, "key", "2"),
                QuickReply("no", "둘 다 아니에요", "text", "아니요"),
                HOME,
            ]
        return [QuickReply("yes", "네, 맞아요", "text", "네"), NO, HOME]  # one option to confirm
    if turn.expects == "yes_no":
        return [YES, NO, HOME, AGENT_KEY]
    return [HOME, AGENT_KEY]  # question, slot


def match_offered(text: str, offered: list[QuickReply]) -> QuickReply | None:
    """The offered quick reply whose label is exactly ``text`` (how KakaoTalk sends a pressed one back)."""
    wanted = " ".join(text.split())
    return next((q for q in offered if q.label == wanted), None)
