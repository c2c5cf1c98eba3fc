"""Text channels on the same dialog engine as the phone: the web chat (``/chat``) and KakaoTalk.

The service is channel-neutral; the HTTP routes are ``voicebot.server.chat_routes``::

    from voicebot.chat import ChatService, KakaoConfig, KakaoSkill

    chat = ChatService(engine, factory, handoffs)      # dialog engine, store sessions, HandoffRegistry
    reply = chat.start("web")                          # new conversation: greeting + menu buttons
    reply = chat.send_text(reply.conversation.id, "따릉이 요금이 얼마예요?")   # session.on_speech(text)
    reply = chat.press(conversation_id, "key-1")       # a quick reply: menu digit -> session.on_dtmf("1")
    reply = chat.history(conversation_id, after=seq)   # what the page polls
    reply = chat.converse("kakao", user_id, text)      # KakaoTalk: the user's open conversation (or a new one)
    chat.queue(); chat.take(id, name, token_id); chat.agent_reply(id, text); chat.hand_back(id); chat.close(id)

    skill = KakaoSkill(chat, KakaoConfig(secret=...), sender)   # Open Builder's skill API, 5-second budget
    status, body = skill.handle(headers, raw_body)

``reply.conversation`` has the state (bot | waiting | agent | ended) and the quick replies on offer;
``reply.messages`` the messages the request added (user, bot, agent, system), each with ``emergency`` set
on the 119/112 reply of an emergency. The same question gets the same answer as on the phone: typed text
is ``DialogSession.on_speech``, a menu or choice button ``on_dtmf`` (``dialog.quick``).

Escalation files the dialog's handoff record through ``voicebot.call.handoff.file_handoff`` (transport
``chat`` for the web, ``kakao``) and puts the conversation in the agents' queue; an operator takes it (one
operator only: a conditional UPDATE), replies, hands it back to the bot (a new dialog with the menu) or
closes it. Conversations and messages are stored (``voicebot.chat.schema``; migration ``0005_chat``), so
they survive a restart: the dialog session is rebuilt by replaying the citizen's stored inputs. Logs carry
conversation ids, dialog actions and intents only; KakaoTalk user ids are stored as SHA-256.

``ChatService(..., on_event=)`` is told ``(event, channel=, role=, reason=)`` for the server's metrics:
conversation, message, handoff, taken, ended, and personal_data_refusal (the bot refused a request for
someone else's personal data, ``dialog.privacy``).

Imports: ``dialog``, ``outbound.schema`` (the store's declarative base) and ``voicebot.call.handoff``;
never ``voicebot.sip`` or ``voicebot.webrtc``.
"""

from dialog.quick import QuickReply

from .kakao import CallbackSender, HttpCallbackSender, KakaoConfig, KakaoSkill, skill_response
from .service import (
    MAX_TEXT_CHARS,
    ChatConflict,
    ChatError,
    ChatInputError,
    ChatNotFound,
    ChatReplayed,
    ChatReply,
    ChatService,
    ChatUnavailable,
    ConversationView,
    MessageView,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "CallbackSender",
    "ChatConflict",
    "ChatError",
    "ChatInputError",
    "ChatNotFound",
    "ChatReplayed",
    "ChatReply",
    "ChatService",
    "ChatUnavailable",
    "ConversationView",
    "HttpCallbackSender",
    "KakaoConfig",
    "KakaoSkill",
    "MessageView",
    "QuickReply",
    "skill_response",
]
