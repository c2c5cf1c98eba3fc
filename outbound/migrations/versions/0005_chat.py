"""Text conversations (web chat, KakaoTalk) and their messages, for voicebot.chat

The models are ``voicebot/chat/schema.py`` (on the outbound store's declarative base; ``outbound`` itself
never imports them).

Revision ID: 0005_chat
Revises: 0004_attempts_simulated
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_chat"
down_revision = "0004_attempts_simulated"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("delivered_seq", sa.Integer(), nullable=False),
        sa.Column("quick_replies", sa.JSON(), nullable=False),
        sa.Column("handoff_id", sa.String(length=16), nullable=True),
        sa.Column("handoff_reason", sa.String(length=32), nullable=True),
        sa.Column("agent_name", sa.String(length=100), nullable=True),
        sa.Column("agent_token_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(), nullable=True),
        sa.Column("agent_since", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("channel IN ('web', 'kakao')", name="ck_chat_conversations_channel"),
        sa.CheckConstraint(
            "state IN ('bot', 'waiting', 'agent', 'ended')", name="ck_chat_conversations_state"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_conversations_user", "chat_conversations", ["channel", "user_hash", "state"])
    op.create_index("ix_chat_conversations_state", "chat_conversations", ["state", "updated_at"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("request_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("role IN ('user', 'bot', 'agent', 'system')", name="ck_chat_messages_role"),
        sa.ForeignKeyConstraint(["conversation_id"], ["chat_conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_chat_messages_seq"),
        sa.UniqueConstraint("request_key", name="uq_chat_messages_request"),
    )


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_index("ix_chat_conversations_state", table_name="chat_conversations")
    op.drop_index("ix_chat_conversations_user", table_name="chat_conversations")
    op.drop_table("chat_conversations")
