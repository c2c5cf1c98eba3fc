"""Answers that name a specific programme (기초연금, 기초생활수급, 청년수당, 기후동행카드) are given only when the
question names that programme; otherwise the bot asks whether it is the one (issue 19). Real engine and KB."""

from __future__ import annotations

import pytest
from test_kb_lifecycle import entry_data

from dialog import KBError, parse_kb


def test_an_answer_about_a_named_programme_needs_the_question_to_name_it(engine) -> None:
    """The issue's "긴급 복지 지원" got the 기초생활보장 answer: it has its own entry (긴급복지지원) now, and a
    question that names neither programme is asked back rather than given either answer."""
    for text in (
        "긴급 복지 지원 신청 방법 알려 주세요",
        "긴급복지 지원금 받을 수 있나요",
    ):
        turn = engine.ask(text)
        assert turn.action == "answer" and turn.intent == "general.emergency_welfare", text
        assert "129" in turn.reply and "기초생활보장" not in turn.reply
    turn = engine.ask("생계가 너무 어려운데 지원받을 수 있나요")
    assert turn.action == "clarify" and "기초생활수급 신청" in turn.reply
    for text in (
        "기초 생활 수급 신청하려면 어디로 가야 돼요",
        "기초연금 한 달에 얼마씩 나와요",
        "청년 수당 신청하려면 어떻게 해요",
    ):
        assert engine.ask(text).action == "answer", text  # named, even with other spacing
    session = engine.new_session("programme")
    session.start()
    asked = session.on_speech("한 달 무제한으로 타는 카드 어디서 팔아요")
    assert asked.action == "clarify" and asked.reply.startswith("기후동행카드 문의이신가요?")
    answered = session.on_speech("네")
    assert answered.action == "answer" and answered.intent == "transport.climate_card"
    assert engine.ask("65세 이상 어르신 매달 받는 연금 신청").action == "clarify"
    with pytest.raises(KBError, match="field 'programme'"):
        parse_kb({"entries": [entry_data(programme="청년수당")]})
    assert parse_kb({"entries": [entry_data(programme=["한파 쉼터"])]}).get(
        "general.cold_shelter"
    ).programme == ("한파 쉼터",)
