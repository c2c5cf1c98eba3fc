"""The inquiry record of a text conversation (issue 19), written in the transaction that ends it.

Built from the stored messages' labels (the dialog action, category and intent of each bot message) and
counts; the only thing read from what the citizen typed is a Seoul district's name, when one was given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outbound import inquiries

from .schema import ChatConversation, ChatMessage

CHANNEL = {"web": "web_chat", "kakao": "kakao"}
USER_INPUTS = ("text", "key")


def record_conversation(db: Session, conv: ChatConversation, now: datetime) -> None:
    messages = db.scalars(
        select(ChatMessage).where(ChatMessage.conversation_id == conv.id).order_by(ChatMessage.seq)
    ).all()
    steps = [
        inquiries.Step(m.kind, (m.meta or {}).get("category"), (m.meta or {}).get("intent"))
        for m in messages
        if m.role == "bot"
    ]
    typed = [m.text for m in messages if m.role == "user" and m.kind == "text"]
    inquiries.record(
        db,
        started_at=conv.created_at,
        channel=CHANNEL[conv.channel],
        summary=inquiries.summarize(steps, conv.handoff_reason),
        turns=sum(m.role == "user" and m.kind in USER_INPUTS for m in messages),
        duration_s=max(0.0, (now - conv.created_at).total_seconds()),
        district=inquiries.district_in(typed),
    )
