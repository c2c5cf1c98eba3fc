"""DialogEngine: the knowledge base and matcher shared by every call, single-shot ``ask``, and the
factory of per-call ``DialogSession``s. The interpretation itself lives in ``dialog.interpret``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .interpret import EngineConfig, Interpreter, make_handoff, render
from .kb import load_kb
from .matcher import MatcherConfig
from .session import DialogSession
from .turns import Action, BotTurn


class DialogEngine(Interpreter):
    """Knowledge base + matcher (see ``Interpreter``), built once and shared read-only by all concurrent
    calls; ``new_session`` starts the dialog of one call."""

    def new_session(self, call_id: str | None = None) -> DialogSession:
        return DialogSession(self, call_id=call_id)

    # --------------------------------------------------------------------------------- single shot
    def ask(self, text: str, language: str = "ko", category: str | None = None) -> BotTurn:
        """Classify and answer one utterance without call state (the ``voicebot ask`` command)."""
        interp = self.interpret(text, language, category)
        turn = render(interp, follow_up=False)
        if turn.action is Action.ESCALATE:
            handoff = make_handoff(interp, turn, (text,), (turn.reply,), language=interp.lang)
            turn = dataclasses.replace(turn, handoff=handoff)
        return turn


def load_default_engine(
    kb_path: str | Path | None = None,
    config: EngineConfig | None = None,
    matcher_config: MatcherConfig | None = None,
) -> DialogEngine:
    """An engine over the packaged sample KB (or ``kb_path``); takes a few seconds (kiwipiepy)."""
    return DialogEngine(load_kb(kb_path), config=config, matcher_config=matcher_config)
