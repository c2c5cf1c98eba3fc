"""The stored text conversations (web chat, KakaoTalk): one row per conversation, one per message.

The tables live in the outbound store's database and share its declarative base (so Alembic's migrations in
``outbound/migrations`` create them: revision ``0005_chat``), but belong to ``voicebot.chat``: ``outbound``
never imports them. Messages hold what citizens typed (personal data): they are shown to the citizen and to
operators, never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from outbound.schema import Base, UTCDateTime, utcnow

CHANNELS = ("web", "kakao")
# bot: the dialog answers; waiting: handed to an agent, in the console's queue; agent: an operator has
# taken it and answers; ended: said goodbye, closed by the operator, or left idle.
STATES = ("bot", "waiting", "agent", "ended")
ROLES = ("user", "bot", "agent", "system")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ChatConversation(Base):
    """One conversation on one text channel. ``epoch`` counts the dialog sessions it had: a new one starts
    when the citizen starts over or an operator hands the chat back to the bot; the dialog state of the
    current one is rebuilt after a restart by replaying the citizen's inputs of that epoch."""

    __tablename__ = "chat_conversations"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="ck_chat_conversations_channel"),
        CheckConstraint(_in("state", STATES), name="ck_chat_conversations_state"),
        Index("ix_chat_conversations_user", "channel", "user_hash", "state"),
        Index("ix_chat_conversations_state", "state", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the channel's user id (KakaoTalk's bot user key): never the id itself.
    user_hash: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="bot")
    epoch: Mapped[int] = mapped_column(Integer, default=1)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Channels that cannot be pushed to (KakaoTalk answers only when the user writes): the last message
    # shown there; later ones (an agent's reply, an answer that came too late) go out with the next reply.
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The quick replies offered with the latest bot message: [{"id", "label", "kind", "value"}].
    quick_replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    handoff_id: Mapped[str | None] = mapped_column(String(16))
    handoff_reason: Mapped[str | None] = mapped_column(String(32))
    agent_name: Mapped[str | None] = mapped_column(String(100))
    agent_token_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(32))


class ChatMessage(Base):
    """One message in a conversation, in ``seq`` order. A citizen's input that went to the dialog carries
    the dialog ``epoch`` it went to (``kind`` text: ``on_speech(text)``; key: ``on_dtmf(value)``)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="ck_chat_messages_role"),
        UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        UniqueConstraint("request_key", name="uq_chat_messages_request"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("chat_conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(8))
    # user: text | key | restart; bot: the dialog action (menu, answer, clarify, escalate, goodbye);
    # agent: text; system: notice
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    value: Mapped[str | None] = mapped_column(String(8))
    epoch: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The channel's id of the request that brought the message (a replay is refused by this key).
    request_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
