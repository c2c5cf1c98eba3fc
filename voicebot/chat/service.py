"""ChatService: text conversations on any channel, answered by the same dialog engine as phone calls.

One conversation per (channel, user): the web chat starts a new one per visit (its id, 128 random bits,
is the browser's key to it), KakaoTalk keeps one per user id (stored only as a SHA-256) until it ends or
stays idle for ``idle_s``. Every message is stored before the reply goes out, so a conversation survives a
restart; the dialog state (a ``DialogSession``, not serialisable) is rebuilt by replaying the citizen's
inputs of the current dialog epoch into a fresh session, and cached in memory after that.

Typed text is ``session.on_speech(text)``, a menu or choice button ``session.on_dtmf(digit)``: the same
question gets the same answer as on the phone. When the dialog escalates, the handoff record is filed with
``voicebot.call.handoff.file_handoff`` (transport ``chat`` or ``kakao``) and the conversation waits in the
agents' queue; an emergency's 119/112 reply is in the same response. Logs carry conversation ids, actions
and intents, never what was typed and never a user id.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, sessionmaker

from dialog import REFUSAL_INTENT, Action, BotTurn, DialogEngine, DialogSession, Reason, quick
from dialog.quick import QuickReply
from voicebot.call.handoff import HandoffRegistry, file_handoff

from .inquiry import record_conversation
from .schema import ChatConversation, ChatMessage

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
MAX_USER_ID_CHARS = 200
MAX_REQUEST_KEY_CHARS = 128
CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
HANDOFF_TRANSPORT = {"web": "chat", "kakao": "kakao"}
INPUT_KINDS = ("text", "key")
KEYS = frozenset("0123456789*#")  # the user messages that went to the dialog (replayed on restore)

WAITING_NOTICE = "상담사 연결을 기다리고 있습니다. 상담사가 연결되면 이 창에서 바로 답변해 드립니다."
AGENT_JOINED = "상담사가 연결되었습니다."
AGENT_LEFT = "상담사가 상담을 마치고 상담봇으로 돌려 드렸습니다."
CLOSED_BY_AGENT = "상담사가 상담을 종료했습니다. 이용해 주셔서 감사합니다."
RESTARTED = "새 상담을 시작합니다."


def utc_now() -> datetime:
    return datetime.now(UTC)


class ChatError(Exception):
    """A request the service refuses; nothing was changed. ``code`` and ``status`` for the HTTP layer."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ChatInputError(ChatError):
    code = "bad_input"
    status = 422


class ChatNotFound(ChatError):
    code = "not_found"
    status = 404


class ChatReplayed(ChatError):
    code = "replayed"
    status = 409


class ChatConflict(ChatError):
    code = "conflict"
    status = 409


class ChatUnavailable(ChatError):
    code = "unavailable"
    status = 503


def check_text(text: Any) -> str:
    """The message as the dialog gets it (whitespace collapsed), or ChatInputError saying what is wrong."""
    if not isinstance(text, str):
        raise ChatInputError("메시지(text)는 글자로 보내 주세요.")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ChatInputError("메시지를 입력해 주세요.")
    if len(text) > MAX_TEXT_CHARS:
        raise ChatInputError(
            f"메시지는 {MAX_TEXT_CHARS:,}자까지 보낼 수 있습니다 (보내신 메시지: {len(text):,}자)."
        )
    return cleaned


def check_request_key(key: Any) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_REQUEST_KEY_CHARS:
        raise ChatInputError(f"요청 번호는 {MAX_REQUEST_KEY_CHARS}자 이하의 글자여야 합니다.")
    return key.strip()


def user_hash(channel: str, user_id: str) -> str:
    return hashlib.sha256(f"{channel}\x00{user_id}".encode()).hexdigest()


# ------------------------------------------------------------------------------------------ views


@dataclass(frozen=True)
class MessageView:
    seq: int
    role: str  # user | bot | agent | system
    kind: str
    text: str
    at: datetime
    emergency: bool = False
    action: str | None = None
    category: str | None = None
    intent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "role": self.role,
            "kind": self.kind,
            "text": self.text,
            "at": self.at.isoformat(),
            "emergency": self.emergency,
            "action": self.action,
            "category": self.category,
            "intent": self.intent,
        }


@dataclass(frozen=True)
class ConversationView:
    id: str
    channel: str
    state: str
    quick_replies: tuple[QuickReply, ...]
    agent_name: str | None = None
    handoff_id: str | None = None
    handoff_reason: str | None = None

    def to_dict(self, *, staff: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "channel": self.channel,
            "state": self.state,
            "quick_replies": [{"id": q.id, "label": q.label} for q in self.quick_replies],
        }
        if staff:
            body.update(
                agent_name=self.agent_name, handoff_id=self.handoff_id, handoff_reason=self.handoff_reason
            )
        return body


@dataclass(frozen=True)
class ChatReply:
    """What a request produced: the conversation as it now is and the messages it added, in order."""

    conversation: ConversationView
    messages: tuple[MessageView, ...]
    new_conversation: bool = False

    @property
    def emergency(self) -> bool:
        return any(m.emergency for m in self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation.to_dict(),
            "messages": [m.to_dict() for m in self.messages],
        }


def _view(conv: ChatConversation) -> ConversationView:
    return ConversationView(
        conv.id,
        conv.channel,
        conv.state,
        tuple(QuickReply.from_dict(q) for q in conv.quick_replies or []),
        conv.agent_name,
        conv.handoff_id,
        conv.handoff_reason,
    )


def _message_view(m: ChatMessage) -> MessageView:
    meta = m.meta or {}
    return MessageView(
        m.seq,
        m.role,
        m.kind,
        m.text,
        m.created_at,
        bool(meta.get("emergency")),
        meta.get("action"),
        meta.get("category"),
        meta.get("intent"),
    )


# --------------------------------------------------------------------------------------- the step


@dataclass
class _Step:
    """The messages one request adds to one conversation, inside one database transaction."""

    db: Session
    conv: ChatConversation
    now: datetime
    added: list[ChatMessage] = field(default_factory=list)

    def add(self, role: str, kind: str, text: str, **extra: Any) -> ChatMessage:
        self.conv.last_seq += 1
        message = ChatMessage(
            conversation_id=self.conv.id,
            seq=self.conv.last_seq,
            role=role,
            kind=kind,
            text=text,
            created_at=self.now,
            **extra,
        )
        self.db.add(message)
        self.added.append(message)
        self.conv.updated_at = self.now
        return message

    def reply(self, new: bool = False, *, unseen: bool = False) -> ChatReply:
        """The messages this step added; with ``unseen``, every message after the last one the channel
        showed (``delivered_seq``), the ones this step added included."""
        self.db.flush()
        if unseen:
            rows = self.db.scalars(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == self.conv.id, ChatMessage.seq > self.conv.delivered_seq)
                .order_by(ChatMessage.seq)
            ).all()
        else:
            rows = self.added
        return ChatReply(_view(self.conv), tuple(_message_view(m) for m in rows), new)


Events = Callable[..., None]


class ChatService:
    """Text conversations over the dialog engine and the store. Thread-safe: requests for one conversation
    are serialised, different conversations run side by side."""

    def __init__(
        self,
        engine: DialogEngine | Callable[[], DialogEngine | None],
        factory: sessionmaker[Session],
        handoffs: HandoffRegistry | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        idle_s: float = 1800.0,
        cache_size: int = 1000,
        on_event: Events | None = None,
    ):
        self._engine = (
            engine if callable(engine) and not isinstance(engine, DialogEngine) else (lambda: engine)
        )
        self.factory = factory
        self.handoffs = handoffs
        self.clock = clock
        self.idle = timedelta(seconds=idle_s)
        self._sessions: OrderedDict[str, tuple[int, DialogSession]] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()
        self._locks = [threading.Lock() for _ in range(64)]
        self._on_event = on_event or (lambda *args, **kwargs: None)

    # ----------------------------------------------------------------------------- public API
    def start(self, channel: str = "web") -> ChatReply:
        """A new conversation with the greeting and the menu (the web chat's "start")."""
        self._check_channel(channel)
        with self.factory.begin() as db:
            step = self._create(db, channel, None)
            return step.reply(new=True)

    def send_text(self, conversation_id: str, text: Any, *, request_key: Any = None) -> ChatReply:
        """The citizen typed ``text``: the dialog's answer (or, with an agent, the message is passed on)."""
        cleaned = check_text(text)
        key = check_request_key(request_key)
        return self._locked(conversation_id, lambda step: self._text(step, cleaned), key)

    def press(self, conversation_id: str, reply_id: Any, *, request_key: Any = None) -> ChatReply:
        """The citizen pressed one of the quick replies offered with the latest bot message."""
        if not isinstance(reply_id, str) or not reply_id or len(reply_id) > 32:
            raise ChatInputError("누른 버튼(id)을 알 수 없습니다.")
        key = check_request_key(request_key)

        def act(step: _Step) -> None:
            offered = [QuickReply.from_dict(q) for q in step.conv.quick_replies or []]
            chosen = next((q for q in offered if q.id == reply_id), None)
            if chosen is None:
                raise ChatConflict("지금은 누를 수 없는 버튼입니다. 화면의 최신 버튼을 눌러 주세요.")
            self._quick(step, chosen)

        return self._locked(conversation_id, act, key)

    def history(self, conversation_id: str, after: int = 0) -> ChatReply:
        """The conversation and its messages after ``seq`` ``after`` (all of them with 0)."""
        self._check_id(conversation_id)
        with self.factory.begin() as db:
            conv = self._load(db, conversation_id)
            rows = db.scalars(
                select(ChatMessage)
                .where(ChatMessage.conversation_id == conv.id, ChatMessage.seq > after)
                .order_by(ChatMessage.seq)
            ).all()
            return ChatReply(_view(conv), tuple(_message_view(m) for m in rows))

    def converse(
        self, channel: str, user_id: Any, text: Any, *, key: str | None = None, request_key: Any = None
    ) -> ChatReply:
        """A message from a channel that knows its users (KakaoTalk): into the user's open conversation, or
        a new one (greeting first) when there is none, it ended, or it stayed idle. A message that is
        exactly an offered quick reply's label is that button; ``key`` (a keypad digit from the channel's
        own button) is ``on_dtmf``."""
        self._check_channel(channel)
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > MAX_USER_ID_CHARS:
            raise ChatInputError("사용자 id(userRequest.user.id)가 없거나 올바르지 않습니다.")
        if key is not None and key not in KEYS:
            raise ChatInputError("버튼 값(key)은 0-9, *, # 중 하나여야 합니다.")
        cleaned = check_text(text) if key is None else (text if isinstance(text, str) else "")
        request = check_request_key(request_key)
        digest = user_hash(channel, user_id.strip())
        with self._lock_for(digest):
            with self.factory.begin() as db:
                conv = db.scalars(
                    select(ChatConversation)
                    .where(
                        ChatConversation.channel == channel,
                        ChatConversation.user_hash == digest,
                        ChatConversation.state != "ended",
                    )
                    .order_by(ChatConversation.created_at.desc())
                    .limit(1)
                ).first()
                now = self.clock()
                if conv is not None and conv.state == "bot" and now - conv.updated_at > self.idle:
                    self._end(conv, now, "idle")
                    self._evict(conv.id)
                    conv = None
                if conv is not None:
                    conv_id = conv.id
                else:
                    self._check_replay(db, request)
                    step = self._create(db, channel, digest)
                    if key is None and _is_start_word(cleaned):
                        step.add("user", "restart", cleaned, request_key=request)
                        return step.reply(new=True, unseen=True)
                    try:
                        self._input(step, cleaned, key, request)
                    except BaseException:
                        self._evict(step.conv.id)
                        raise
                    return step.reply(new=True, unseen=True)
        return self._locked(conv_id, lambda step: self._input(step, cleaned, key, None), request, unseen=True)

    def end_idle(self) -> int:
        """End the conversations the bot holds that stayed idle for ``idle_s`` (a web chat whose visitor
        left): each gets its inquiry record. Returns how many ended; the server calls this every minute."""
        cutoff = self.clock() - self.idle
        with self.factory() as db:
            ids = db.scalars(
                select(ChatConversation.id).where(
                    ChatConversation.state == "bot", ChatConversation.updated_at < cutoff
                )
            ).all()
        ended = 0
        for conversation_id in ids:
            with self._lock_for(conversation_id), self.factory.begin() as db:
                conv = db.get(ChatConversation, conversation_id)
                now = self.clock()
                if conv is None or conv.state != "bot" or now - conv.updated_at <= self.idle:
                    continue  # a message came in meanwhile
                self._end(conv, now, "idle")
                ended += 1
            self._evict(conversation_id)
        return ended

    def mark_delivered(self, conversation_id: str, seq: int) -> None:
        """The channel showed the conversation's messages up to ``seq``."""
        with self.factory.begin() as db:
            db.execute(
                update(ChatConversation)
                .where(ChatConversation.id == conversation_id, ChatConversation.delivered_seq < seq)
                .values(delivered_seq=seq)
                .execution_options(synchronize_session=False)
            )

    # ----------------------------------------------------------------------------- staff side
    def queue(self) -> list[dict[str, Any]]:
        """Conversations waiting for an agent or with one, oldest waiting first (for the console)."""
        with self.factory.begin() as db:
            rows = db.scalars(
                select(ChatConversation)
                .where(ChatConversation.state.in_(("waiting", "agent")))
                .order_by(ChatConversation.waiting_since, ChatConversation.created_at)
            ).all()
            return [
                {
                    **_view(c).to_dict(staff=True),
                    "emergency": c.handoff_reason == str(Reason.EMERGENCY),
                    "summary": self._summary(c.handoff_id),
                    "waiting_since": c.waiting_since.isoformat() if c.waiting_since else None,
                    "agent_since": c.agent_since.isoformat() if c.agent_since else None,
                    "updated_at": c.updated_at.isoformat(),
                }
                for c in rows
            ]

    def _summary(self, handoff_id: str | None) -> str | None:
        """The handoff record's one-line summary for the operator (what the citizen said)."""
        if self.handoffs is None or not handoff_id:
            return None
        record = self.handoffs.get(handoff_id)
        return record.get("summary") if record else None

    def take(self, conversation_id: str, agent_name: str, agent_token_id: int | None = None) -> ChatReply:
        """An operator takes a waiting conversation. Exactly one of two operators racing wins: the state
        moves from waiting to agent in one conditional UPDATE; the other gets ChatConflict."""
        self._check_id(conversation_id)
        with self._lock_for(conversation_id), self.factory.begin() as db:
            now = self.clock()
            taken = db.execute(
                update(ChatConversation)
                .where(ChatConversation.id == conversation_id, ChatConversation.state == "waiting")
                .values(
                    state="agent",
                    agent_name=agent_name,
                    agent_token_id=agent_token_id,
                    agent_since=now,
                    updated_at=now,
                    quick_replies=[],
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            conv = self._load(db, conversation_id)
            if taken != 1:
                who = f" (담당: {conv.agent_name})" if conv.state == "agent" and conv.agent_name else ""
                raise ChatConflict(f"이 상담은 이미 다른 상담사가 맡았거나 대기 중이 아닙니다{who}.")
            db.refresh(conv)
            step = _Step(db, conv, now)
            step.add("system", "notice", AGENT_JOINED)
            waited = (now - conv.waiting_since).total_seconds() if conv.waiting_since else None
            self._on_event("taken", channel=conv.channel, wait_s=waited)
            log.info("chat %s taken by an agent (token %s)", conv.id[:8], agent_token_id)
            return step.reply()

    def agent_reply(self, conversation_id: str, text: Any, agent_token_id: int | None = None) -> ChatReply:
        cleaned = check_text(text)

        def act(step: _Step) -> None:
            self._require_agent(step.conv, agent_token_id)
            step.add("agent", "text", cleaned, meta={"agent": step.conv.agent_name})
            self._on_event("message", channel=step.conv.channel, role="agent")

        return self._locked(conversation_id, act, None)

    def hand_back(self, conversation_id: str, agent_token_id: int | None = None) -> ChatReply:
        """The operator gives the conversation back to the bot: a new dialog starts with the menu."""

        def act(step: _Step) -> None:
            self._require_agent(step.conv, agent_token_id)
            step.add("system", "notice", AGENT_LEFT)
            step.conv.agent_name = None
            step.conv.agent_token_id = None
            self._new_dialog(step)

        return self._locked(conversation_id, act, None)

    def close(self, conversation_id: str, agent_token_id: int | None = None) -> ChatReply:
        def act(step: _Step) -> None:
            if step.conv.state not in ("waiting", "agent"):
                raise ChatConflict("상담사 대기 중이거나 상담 중인 대화만 종료할 수 있습니다.")
            if step.conv.state == "agent":
                self._require_agent(step.conv, agent_token_id)
            step.add("system", "notice", CLOSED_BY_AGENT)
            self._end(step.conv, step.now, "closed")
            step.conv.quick_replies = [quick.NEW_CHAT.to_dict()]
            self._evict(step.conv.id)

        return self._locked(conversation_id, act, None)

    # ----------------------------------------------------------------------------- internals
    def engine(self) -> DialogEngine:
        engine = self._engine()
        if engine is None:
            raise ChatUnavailable("상담봇이 아직 준비되지 않았습니다. 잠시 후 다시 시도해 주세요.")
        return engine

    def _check_channel(self, channel: str) -> None:
        if channel not in HANDOFF_TRANSPORT:
            raise ChatInputError(f"알 수 없는 채널입니다: {channel!r}")

    def _check_id(self, conversation_id: Any) -> None:
        if not isinstance(conversation_id, str) or not CONVERSATION_ID.match(conversation_id):
            raise ChatNotFound("대화를 찾을 수 없습니다. 새 상담을 시작해 주세요.")

    def _lock_for(self, key: str) -> threading.Lock:
        return self._locks[int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % len(self._locks)]

    def _load(self, db: Session, conversation_id: str) -> ChatConversation:
        conv = db.get(ChatConversation, conversation_id)
        if conv is None:
            raise ChatNotFound("대화를 찾을 수 없습니다. 새 상담을 시작해 주세요.")
        return conv

    def _check_replay(self, db: Session, request_key: str | None) -> None:
        if request_key is None:
            return
        seen = db.scalar(select(ChatMessage.id).where(ChatMessage.request_key == request_key).limit(1))
        if seen is not None:
            raise ChatReplayed(
                "이미 처리한 요청입니다 (같은 요청이 다시 왔습니다). 아무것도 바꾸지 않았습니다."
            )

    def _locked(
        self,
        conversation_id: str,
        act: Callable[[_Step], None],
        request_key: str | None,
        *,
        unseen: bool = False,
    ) -> ChatReply:
        self._check_id(conversation_id)
        with self._lock_for(conversation_id):
            try:
                with self.factory.begin() as db:
                    conv = self._load(db, conversation_id)
                    self._check_replay(db, request_key)
                    step = _Step(db, conv, self.clock())
                    mark = len(step.added)
                    act(step)
                    if request_key is not None:
                        first_user = next((m for m in step.added[mark:] if m.role == "user"), None)
                        if first_user is not None:
                            first_user.request_key = request_key
                    return step.reply(unseen=unseen)
            except IntegrityError as exc:  # the same request key, stored by a request racing this one
                self._evict(conversation_id)
                raise ChatReplayed("이미 처리한 요청입니다. 아무것도 바꾸지 않았습니다.") from exc
            except BaseException:
                # The cached dialog session may have moved on while nothing was stored: rebuild it next time.
                self._evict(conversation_id)
                raise

    def _create(self, db: Session, channel: str, digest: str | None) -> _Step:
        engine = self.engine()
        now = self.clock()
        conv = ChatConversation(
            id=secrets.token_hex(16),
            channel=channel,
            user_hash=digest,
            state="bot",
            epoch=1,
            last_seq=0,
            delivered_seq=0,
            quick_replies=[],
            created_at=now,
            updated_at=now,
        )
        db.add(conv)
        step = _Step(db, conv, now)
        session = engine.new_session(conv.id)
        self._cache(conv.id, conv.epoch, session)
        self._bot(step, session, session.start())
        self._on_event("conversation", channel=channel)
        log.info("chat %s started on %s", conv.id[:8], channel)
        return step

    def _input(self, step: _Step, text: str, key: str | None, request_key: str | None) -> None:
        if key is not None:
            label = text or key
            self._dialog(step, QuickReply("key", label, "key", key), request_key)
        else:
            self._text(step, text, request_key)

    def _text(self, step: _Step, text: str, request_key: str | None = None) -> None:
        offered = [QuickReply.from_dict(q) for q in step.conv.quick_replies or []]
        pressed = quick.match_offered(text, offered) if step.conv.channel == "kakao" else None
        if pressed is not None:
            self._quick(step, pressed, request_key)
            return
        if step.conv.state in ("waiting", "agent"):
            step.add("user", "text", text, request_key=request_key)
            if step.conv.state == "waiting":
                step.add("system", "notice", WAITING_NOTICE)
            self._on_event("message", channel=step.conv.channel, role="user")
            return
        self._dialog(step, QuickReply("text", text, "text", text), request_key)

    def _quick(self, step: _Step, chosen: QuickReply, request_key: str | None = None) -> None:
        if chosen.kind == "restart":
            if step.conv.state == "agent":
                raise ChatConflict("상담사와 상담 중에는 새 상담을 시작할 수 없습니다.")
            step.add("user", "restart", chosen.label, request_key=request_key)
            step.add("system", "notice", RESTARTED)
            if step.conv.state == "ended":
                step.conv.ended_at = None
                step.conv.ended_reason = None
            self._new_dialog(step)
            return
        if step.conv.state != "bot":
            raise ChatConflict("지금은 누를 수 없는 버튼입니다.")
        self._dialog(step, chosen, request_key)

    def _dialog(self, step: _Step, given: QuickReply, request_key: str | None) -> None:
        """One input to the dialog (the conversation is with the bot, or ended: then a new dialog first)."""
        conv = step.conv
        if conv.state == "ended":
            step.conv.ended_at = None
            step.conv.ended_reason = None
            self._new_dialog(step)
        session = self._session(step.db, conv)
        if given.kind == "key":
            step.add("user", "key", given.label, value=given.value, epoch=conv.epoch, request_key=request_key)
            turn = session.on_dtmf(given.value)
        else:
            meta = {"quick_reply": given.id} if given.id not in ("text",) else None
            step.add("user", "text", given.value, epoch=conv.epoch, meta=meta, request_key=request_key)
            turn = session.on_speech(given.value)
        self._on_event("message", channel=conv.channel, role="user")
        self._bot(step, session, turn)

    def _bot(self, step: _Step, session: DialogSession, turn: BotTurn) -> None:
        conv = step.conv
        handoff = turn.handoff
        emergency = handoff is not None and handoff.reason is Reason.EMERGENCY
        meta = {
            "action": str(turn.action),
            "category": turn.category,
            "intent": turn.intent,
            "expects": turn.expects,
            "emergency": emergency,
        }
        step.add("bot", str(turn.action), turn.text_reply or turn.reply, meta=meta, epoch=conv.epoch)
        conv.quick_replies = [q.to_dict() for q in quick.for_turn(turn, ended=session.ended)]
        self._on_event("message", channel=conv.channel, role="bot")
        if turn.intent == REFUSAL_INTENT:
            self._on_event("personal_data_refusal", channel=conv.channel)
        log.info("chat %s: %s (%s, %s)", conv.id[:8], turn.action, turn.category or "-", turn.intent or "-")
        if turn.action is Action.ESCALATE and handoff is not None:
            record = handoff.to_dict()
            record["conversation_id"] = conv.id
            conv.handoff_id = file_handoff(
                self.handoffs, record, transport=HANDOFF_TRANSPORT[conv.channel], call_id=conv.id
            )
            conv.handoff_reason = str(handoff.reason)
            conv.state = "waiting"
            conv.waiting_since = step.now
            self._evict(conv.id)
            self._on_event("handoff", channel=conv.channel, reason=str(handoff.reason))
            log.info(
                "chat %s handed to an agent: %s (handoff %s)", conv.id[:8], handoff.reason, conv.handoff_id
            )
        elif session.ended:
            self._end(conv, step.now, "goodbye")
            self._evict(conv.id)

    def _new_dialog(self, step: _Step) -> None:
        conv = step.conv
        conv.epoch += 1
        conv.state = "bot"
        conv.waiting_since = None
        conv.agent_since = None
        self._evict(conv.id)
        session = self.engine().new_session(conv.id)
        self._cache(conv.id, conv.epoch, session)
        self._bot(step, session, session.start())

    def _end(self, conv: ChatConversation, now: datetime, reason: str) -> None:
        conv.state = "ended"
        conv.ended_at = now
        conv.ended_reason = reason
        conv.updated_at = now
        db = object_session(conv)
        if db is not None:  # one inquiry record per conversation, in the transaction that ends it
            record_conversation(db, conv, now)
        self._on_event("ended", channel=conv.channel, reason=reason)

    def _require_agent(self, conv: ChatConversation, agent_token_id: int | None) -> None:
        if conv.state != "agent":
            raise ChatConflict("상담사가 맡은 대화가 아닙니다. 먼저 상담을 맡아 주세요.")
        if agent_token_id is not None and conv.agent_token_id not in (None, agent_token_id):
            raise ChatConflict(f"이 상담은 {conv.agent_name or '다른'} 상담사가 맡고 있습니다.")

    # ------------------------------------------------------------------------------ sessions
    def _session(self, db: Session, conv: ChatConversation) -> DialogSession:
        with self._cache_lock:
            cached = self._sessions.get(conv.id)
            if cached is not None and cached[0] == conv.epoch:
                self._sessions.move_to_end(conv.id)
                return cached[1]
        session = self._replay(db, conv)
        self._cache(conv.id, conv.epoch, session)
        return session

    def _replay(self, db: Session, conv: ChatConversation) -> DialogSession:
        """The dialog state after the citizen's inputs of the current epoch, rebuilt in a fresh session."""
        session = self.engine().new_session(conv.id)
        session.start()
        inputs = db.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == conv.id,
                ChatMessage.role == "user",
                ChatMessage.epoch == conv.epoch,
                ChatMessage.kind.in_(INPUT_KINDS),
            )
            .order_by(ChatMessage.seq)
        ).all()
        for message in inputs:
            if message.kind == "key":
                session.on_dtmf(message.value or "")
            else:
                session.on_speech(message.text)
        log.info("chat %s: dialog restored from %d stored inputs", conv.id[:8], len(inputs))
        return session

    def _cache(self, conversation_id: str, epoch: int, session: DialogSession) -> None:
        with self._cache_lock:
            self._sessions[conversation_id] = (epoch, session)
            self._sessions.move_to_end(conversation_id)
            while len(self._sessions) > self._cache_size:
                self._sessions.popitem(last=False)

    def _evict(self, conversation_id: str) -> None:
        with self._cache_lock:
            self._sessions.pop(conversation_id, None)

    def forget_sessions(self) -> None:
        """Drop every cached dialog session (what a restart does; tests use it)."""
        with self._cache_lock:
            self._sessions.clear()


START_WORDS = frozenset({"시작", "처음", "처음으로", "메뉴", "안녕", "안녕하세요", "상담시작", "챗봇"})


def _is_start_word(text: str) -> bool:
    return "".join(text.split()).rstrip("!.?~") in START_WORDS
