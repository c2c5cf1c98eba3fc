"""Text-level dialog engine of the 120 Dasan voicebot: knowledge base, intent matching, ARS flow.

The call loop (VAD -> STT -> dialog -> TTS) uses a small interface::

    from dialog import load_default_engine, turn_to_dict

    engine = load_default_engine()          # once per process (a few seconds: kiwipiepy); thread-safe
    session = engine.new_session(call_id)   # one per call; not thread-safe, feed events in order
    turn = session.start()                  # greeting + menu
    turn = session.on_speech(text, language="ko", stt_confidence=None)   # Whisper text and language id
    turn = session.on_dtmf("1")             # keypad: 0-9, *, #
    turn = session.on_no_input()            # the caller stayed silent after a prompt
    session.on_barge_in()                   # the caller spoke over the prompt (recorded only)
    session.turn_status(text)               # TurnStatus: has the caller finished? (dialog.turn_end)
    session.barges_in(text)                 # short words over the prompt: meant to stop it?
    quick.for_turn(turn, ended=False)       # the buttons a screen offers with a turn (chat, KakaoTalk, caller page)
    is_backchannel(text)                    # "네", "그렇죠" ...: an acknowledgement, not a barge-in
    session.ended, session.handoff, session.history

    engine.ask(text, language="ko") -> BotTurn      # single shot, for `voicebot ask TEXT --json`
    engine.emergencies.detect(text, "ko")            # Emergency(kind) or None (dialog.emergency)
    asks_for_others_data(text)                       # "옆집 할머니 전화번호 알려 주세요" (dialog.privacy)
    prompts.with_notice(text, notice)                # the recording notice after the greeting
    turn_to_dict(turn)                               # {"action", "category", "intent", "confidence", "reply", ...}

``BotTurn`` fields: ``action`` (Action: answer | clarify | escalate | menu | goodbye; ``menu`` also
covers the greeting and reprompts after silence), ``category`` (covid | transport | water | general |
directory | foreign | None), ``intent`` (KB entry id; for clarify the best guess), ``confidence``
(0..1), ``reply`` (text to speak), ``end_call`` (hang up after speaking: goodbye only), ``handoff``
(Handoff on escalate), ``expects`` (menu | question | yes_no | choice | slot | none) and
``interruptible`` (False for emergency instructions and the goodbye, so 119/112 is heard in full).

After ``action == escalate`` the call loop transfers the call to an agent and passes ``turn.handoff``
(reason, category, intent, caller utterances, bot replies, timestamp, language, detail); after
``goodbye`` it hangs up. Both end the session (``session.ended``); later events return the final turn.

Someone else's personal data (phone number, address, resident registration number, medical records,
complaint results) is refused on every channel: ``action == answer`` with ``intent ==
REFUSAL_INTENT`` ("personal_data_refusal") and ``prompts.PERSONAL_DATA_REFUSAL`` as the reply (why,
and what the caller can do instead); the caller's own data and offices' public numbers are ordinary
questions. A recorded call passes ``session.start(recording_notice)``: said once, after the greeting.

Escalation reasons (``Reason``): agent_request, low_confidence (two uncertain turns in a row),
frustration (angry words or the same question repeated after an answer), requires_staff (KB entry
needs personal data or a staff decision), emergency (reply says 119 / 112 / 109), foreign_language,
system_error (set by the call driver when recognition or synthesis fails inside a call).

Keypad (see ``dialog.session``): main menu 0 COVID-19, 1 transport, 2 water, 3 general, 4 directory,
9 foreign languages (escalates), * repeats; in sub-menus * repeats the last prompt, # returns to the
main menu, 0 connects to an agent.
"""

from .engine import DialogEngine, load_default_engine
from .interpret import EngineConfig, Interpretation, Interpreter, effective_language
from .kb import CATEGORIES, KBEntry, KBError, KnowledgeBase, load_kb, parse_kb
from .matcher import Candidate, Matcher, MatcherConfig, MatchResult
from .privacy import REFUSAL_INTENT, asks_for_others_data
from .session import DialogSession
from .turn_end import TurnStatus, is_backchannel, turn_status
from .turns import Action, BotTurn, Handoff, HistoryItem, Reason, turn_to_dict

__all__ = [
    "CATEGORIES",
    "Action",
    "BotTurn",
    "Candidate",
    "DialogEngine",
    "DialogSession",
    "EngineConfig",
    "Handoff",
    "HistoryItem",
    "Interpretation",
    "Interpreter",
    "KBEntry",
    "KBError",
    "KnowledgeBase",
    "REFUSAL_INTENT",
    "MatchResult",
    "Matcher",
    "MatcherConfig",
    "Reason",
    "TurnStatus",
    "asks_for_others_data",
    "effective_language",
    "is_backchannel",
    "load_default_engine",
    "load_kb",
    "parse_kb",
    "turn_status",
    "turn_to_dict",
]
