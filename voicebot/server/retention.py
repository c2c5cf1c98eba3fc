"""Retention per kind (issue 17): what expires, and the daily job of ``voicebot serve``.

The periods are ``outbound.retention.RetentionSettings`` (the serve configuration's ``retention:`` section,
60 days each by default). What goes after its period:

- ``inbound``: call recordings (``*.wav``) in ``sip.record_dir`` older than the period, except those of
  outbound calls (an attempt's ``recording_path``: the outbound period decides), and the handoff records of
  phone and browser calls in ``sip.handoff_dir`` (what the caller said), and closed call-back bookings
  (``outbound.callbacks.purge``: the number) whose slot ended before it. ``call_log`` and ``inquiries`` rows
  hold no words and no number: they stay, the statistics and analytics count them.
- ``outbound``: ``outbound.retention.purge_outbound`` (words, answers per step and recordings of attempts;
  outcomes and times stay for the reports).
- ``chat``: conversations that ended and saw no activity for the period, with their messages, and the
  handoff records of chats (transport ``chat`` or ``kakao``). A conversation still with the bot, waiting
  for an agent or with one is never deleted, nor the handoff record it points to.

Files are deleted only as plain files directly inside the configured folders (never through a symlink or
a path leading out). Counts are what goes; nothing here logs words, names or numbers.

:func:`run_retention` does all kinds once (``voicebot retention run [--dry-run]``); :class:`RetentionJob`
runs it at start and then daily in ``voicebot serve``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from outbound import callbacks
from outbound.api import Auth
from outbound.retention import KINDS, RetentionSettings, purge_outbound
from outbound.schema import Attempt
from outbound.service import Principal
from voicebot.call.handoff import HandoffRegistry
from voicebot.chat.schema import ChatConversation, ChatMessage
from voicebot.server.config import ServeConfig

log = logging.getLogger(__name__)

DAY_S = 24 * 3600.0
CHAT_TRANSPORTS = ("chat", "kakao")  # handoff records of text conversations (voicebot.chat.service)
_HANDOFF_FILE = re.compile(r"^[0-9a-f]{16}\.json$")
BATCH = 500


@dataclass(frozen=True)
class RetentionPlaces:
    """The folders retention deletes files in: call recordings and handoff records."""

    record_dirs: tuple[Path, ...] = ()
    handoff_dir: Path | None = None


def _plain_files(folder: Path, name: Callable[[str], bool]) -> list[tuple[Path, float]]:
    """(path, mtime) of the plain files (no symlinks, no folders) directly in ``folder`` whose name fits."""
    found: list[tuple[Path, float]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        try:
            if name(entry.name) and entry.is_file(follow_symlinks=False):
                found.append((Path(entry.path), entry.stat(follow_symlinks=False).st_mtime))
        except OSError:
            continue
    return found


def _resolved(path: str) -> Path | None:
    try:
        return Path(path).resolve()
    except OSError:
        return None


def purge_inbound_recordings(
    session: Session, folders: Sequence[Path], cutoff: datetime, *, dry_run: bool = False
) -> int:
    """Recordings older than ``cutoff`` in ``folders`` that no attempt names; returns how many (went)."""
    outbound = {
        p
        for p in (
            _resolved(r)
            for r in session.scalars(
                select(Attempt.recording_path).where(Attempt.recording_path.is_not(None))
            )
        )
        if p is not None
    }
    limit = cutoff.timestamp()
    gone = 0
    for folder in folders:
        for path, mtime in _plain_files(folder, lambda n: n.lower().endswith(".wav")):
            if mtime >= limit or _resolved(str(path)) in outbound:
                continue
            gone += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    return gone


def purge_handoffs(
    folder: Path | None,
    inbound_cutoff: datetime,
    chat_cutoff: datetime,
    keep: set[str],
    registry: HandoffRegistry | None = None,
    *,
    dry_run: bool = False,
) -> tuple[int, int]:
    """Handoff records last written before their kind's cutoff (chats: ``chat_cutoff``, calls:
    ``inbound_cutoff``), except the ids in ``keep``; returns (calls, chats) that went. ``registry``: the
    running server's, which then forgets them too."""
    if folder is None:
        return 0, 0
    calls: list[Path] = []
    chats: list[Path] = []
    for path, mtime in _plain_files(folder, lambda n: bool(_HANDOFF_FILE.match(n))):
        if path.stem in keep or (mtime >= inbound_cutoff.timestamp() and mtime >= chat_cutoff.timestamp()):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        chat = isinstance(record, dict) and record.get("transport") in CHAT_TRANSPORTS
        if mtime < (chat_cutoff if chat else inbound_cutoff).timestamp():
            (chats if chat else calls).append(path)
    if not dry_run:
        if registry is not None:
            registry.forget([p.stem for p in calls + chats])
        for path in calls + chats:
            path.unlink(missing_ok=True)
    return len(calls), len(chats)


def _expired_chats(cutoff: datetime) -> Any:
    return and_(
        ChatConversation.state == "ended",
        ChatConversation.updated_at < cutoff,
        or_(ChatConversation.ended_at.is_(None), ChatConversation.ended_at < cutoff),
    )


def purge_chats(session: Session, cutoff: datetime, *, dry_run: bool = False) -> tuple[int, int]:
    """Conversations ended and idle since before ``cutoff``, with their messages; returns (conversations,
    messages) that went. The caller commits."""
    conversations = messages = 0
    last = ""
    while True:
        ids = session.scalars(
            select(ChatConversation.id)
            .where(_expired_chats(cutoff), ChatConversation.id > last)
            .order_by(ChatConversation.id)
            .limit(BATCH)
        ).all()
        if not ids:
            break
        last = ids[-1]
        # The state is checked again in each statement: a conversation that came back meanwhile stays.
        still = select(ChatConversation.id).where(ChatConversation.id.in_(ids), _expired_chats(cutoff))
        if dry_run:
            conversations += len(ids)
            messages += (
                session.scalar(select(func.count(ChatMessage.id)).where(ChatMessage.conversation_id.in_(ids)))
                or 0
            )
            continue
        messages += (
            session.execute(delete(ChatMessage).where(ChatMessage.conversation_id.in_(still))).rowcount or 0
        )
        conversations += (
            session.execute(
                delete(ChatConversation).where(ChatConversation.id.in_(ids), _expired_chats(cutoff))
            ).rowcount
            or 0
        )
    return conversations, messages


def _open_handoffs(session: Session) -> set[str]:
    """Handoff ids of conversations that have not ended: their records stay whatever their age."""
    return {
        h
        for h in session.scalars(
            select(ChatConversation.handoff_id).where(
                ChatConversation.state != "ended", ChatConversation.handoff_id.is_not(None)
            )
        )
        if h
    }


def run_retention(
    factory: sessionmaker[Session],
    settings: RetentionSettings,
    places: RetentionPlaces,
    now: datetime,
    *,
    registry: HandoffRegistry | None = None,
    dry_run: bool = False,
) -> dict[str, dict[str, int]]:
    """Every kind once; per kind the counts of what went (or would go, ``dry_run``)."""
    settings = settings.checked()

    def cutoff(kind: str) -> datetime:
        return now - timedelta(days=settings.days(kind))

    with factory.begin() as session:
        outbound = purge_outbound(
            session, now, settings.outbound_days, places.record_dirs, dry_run=dry_run
        ).as_dict()
    with factory.begin() as session:
        recordings = purge_inbound_recordings(session, places.record_dirs, cutoff("inbound"), dry_run=dry_run)
        booked = callbacks.purge(session, cutoff("inbound"), dry_run=dry_run)
        keep = _open_handoffs(session)
    calls, chat_handoffs = purge_handoffs(
        places.handoff_dir, cutoff("inbound"), cutoff("chat"), keep, registry, dry_run=dry_run
    )
    with factory.begin() as session:
        conversations, messages = purge_chats(session, cutoff("chat"), dry_run=dry_run)
    return {
        "inbound": {"recordings": recordings, "handoffs": calls, "callbacks": booked},
        "outbound": outbound,
        "chat": {"conversations": conversations, "messages": messages, "handoffs": chat_handoffs},
    }


def utc_now() -> datetime:
    return datetime.now(UTC)


class RetentionJob:
    """``voicebot serve``'s daily run: at start, then every ``every_s``; a failed run is logged (by its
    error's type only) and tried again at the next."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: RetentionSettings,
        places: RetentionPlaces,
        *,
        registry: HandoffRegistry | None = None,
        clock: Callable[[], datetime] = utc_now,
        every_s: float = DAY_S,
    ):
        self.factory = factory
        self.settings = settings
        self.places = places
        self.registry = registry
        self.clock = clock
        self.every_s = every_s
        self.last: dict[str, dict[str, int]] | None = None  # the counts of the latest run
        self.last_at: datetime | None = None

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()
            if stop.wait(self.every_s):
                break

    def run_once(self) -> dict[str, dict[str, int]] | None:
        try:
            counts = run_retention(
                self.factory, self.settings, self.places, self.clock(), registry=self.registry
            )
        except Exception as exc:  # the database went away, say: the next run tries again
            log.error("retention run failed: %s", type(exc).__name__)
            return None
        for kind, got in counts.items():
            days = self.settings.days(kind)
            what = ", ".join(f"{name} {count}" for name, count in got.items())
            log.info("retention %s (older than %d days) deleted: %s", kind, days, what)
        self.last, self.last_at = counts, self.clock()
        return counts

    def status(self) -> dict[str, Any]:
        """The periods and the latest run, for staff (``GET /api/retention``)."""
        return {
            "days": {kind: self.settings.days(kind) for kind in KINDS},
            "every_hours": round(self.every_s / 3600, 2),
            "last_run_at": self.last_at.isoformat() if self.last_at else None,
            "last_deleted": self.last,
        }


def make_retention_router(job: RetentionJob, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/api/retention", tags=["operations"])

    @router.get("", summary="Retention periods per kind and what the latest daily run deleted (admins)")
    def retention(who: Principal = Depends(auth.require("admin"))) -> dict[str, Any]:
        return job.status()

    return router


def places_from_config(config: ServeConfig) -> RetentionPlaces:
    """The serve configuration's folders: ``sip.record_dir`` and ``sip.handoff_dir`` (also when SIP is
    off now: files from before still expire)."""
    sip = config.sip
    return RetentionPlaces(
        record_dirs=(Path(sip.record_dir),) if sip.record_dir else (),
        handoff_dir=Path(sip.handoff_dir) if sip.handoff_dir else None,
    )
