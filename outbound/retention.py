"""Retention of outbound calls (issue 17): how long each kind of personal data is kept, and the purge of
outbound attempts past it.

:class:`RetentionSettings` holds one period per kind (``inbound``, ``outbound``, ``chat``; 60 days each by
default). ``outbound`` is done here (:func:`purge_outbound`); ``inbound`` (recordings, handoff records) and
``chat`` (conversations) belong to ``voicebot`` and are purged by ``voicebot.server.retention``, which also
runs the daily job in ``voicebot serve`` and ``voicebot retention run``.

An attempt whose call ended more than ``outbound_days`` ago keeps what reports and summaries count (state,
outcome, timestamps, SIP status, duration, the call's coarse result: script, kind, outcome, overall,
emergency) and loses what was said or heard: the transcript, the keypad entries, the answer per step (the
words and the per-topic values), the words the answering-machine detector heard, and the recording file.
``purged_at`` marks it, so each attempt is handled once. A recording is deleted only when it lies inside one
of the recording folders it is given (symlinks and paths leading out are never followed): any other path
is left on the row, counted as ``recordings_kept`` for the operator to check. Welfare memory has its own
period (``outbound.welfare.WelfareSettings.retention_days``). Nothing here logs names, numbers or words.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from outbound.schema import IN_CALL_STATES, Attempt

log = logging.getLogger(__name__)

KINDS = ("inbound", "outbound", "chat")
MAX_DAYS = 3650
# What stays of a call's stored conversation after its period: the coarse result the campaign summary and
# the export count (outbound.results), no words and no per-question answer.
KEPT_CONVERSATION = ("script", "kind", "outcome", "overall", "emergency")
BATCH = 500


@dataclass(frozen=True)
class RetentionSettings:
    inbound_days: int = 60  # call recordings and handoff records of calls to the voicebot
    outbound_days: int = 60  # what campaign calls said and their recordings
    chat_days: int = 60  # web chat and KakaoTalk conversations (after they ended)

    def checked(self) -> RetentionSettings:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
                raise ValueError(
                    f"retention.{f.name}: 보존 기간은 1일에서 {MAX_DAYS}일 사이의 정수여야 합니다 "
                    f"(days between 1 and {MAX_DAYS}, got {value!r})"
                )
        return self

    def days(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_days"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionSettings:
        """``VOICEBOT_RETENTION_INBOUND_DAYS``, ``…_OUTBOUND_DAYS``, ``…_CHAT_DAYS`` when set (the names
        ``voicebot serve``'s configuration reads too)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"VOICEBOT_RETENTION_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = int(raw)
            except ValueError as exc:
                raise ValueError(
                    f"VOICEBOT_RETENTION_{f.name.upper()}: 보존 기간은 정수(일)여야 합니다 "
                    f"(expected a number of days, got {raw!r})"
                ) from exc
        return cls(**values).checked()


@dataclass(frozen=True)
class OutboundPurge:
    attempts: int = 0  # attempts past the period whose words were cleared (or would be, dry run)
    recordings: int = 0  # recording files deleted
    recordings_kept: int = 0  # recordings outside the recording folders (or symlinks): left in place

    def as_dict(self) -> dict[str, int]:
        return {
            "attempts": self.attempts,
            "recordings": self.recordings,
            "recordings_kept": self.recordings_kept,
        }


def inside(path: Path, folders: Sequence[Path]) -> bool:
    """``path`` is a plain file (not a symlink) whose real location is inside one of ``folders``."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        real = path.resolve(strict=True)
    except OSError:
        return False
    for folder in folders:
        try:
            root = folder.resolve(strict=True)
        except OSError:
            continue
        if real != root and real.is_relative_to(root):
            return True
    return False


def _stripped(conversation: dict[str, Any] | None) -> dict[str, Any] | None:
    if not conversation:
        return None
    return {k: conversation[k] for k in KEPT_CONVERSATION if k in conversation}


def _stripped_amd(amd: dict[str, Any] | None) -> dict[str, Any] | None:
    if not amd:
        return None
    return {k: v for k, v in amd.items() if k != "text"}


def _due(cutoff: datetime) -> Any:
    """Attempts that ended (or, never placed, were made) before ``cutoff`` and are not purged yet."""
    return select(Attempt).where(
        Attempt.purged_at.is_(None),
        Attempt.state.not_in(("scheduled", *IN_CALL_STATES)),
        or_(
            Attempt.ended_at < cutoff,
            and_(Attempt.ended_at.is_(None), Attempt.created_at < cutoff),
        ),
    )


def purge_outbound(
    session: Session,
    now: datetime,
    days: int,
    recording_dirs: Sequence[Path] = (),
    *,
    dry_run: bool = False,
) -> OutboundPurge:
    """Clear what attempts ended more than ``days`` before ``now`` said (see the module); with ``dry_run``
    only count. The caller commits."""
    cutoff = now - timedelta(days=days)
    attempts = recordings = kept = 0
    last_id = 0
    while True:
        batch = session.scalars(
            _due(cutoff).where(Attempt.id > last_id).order_by(Attempt.id).limit(BATCH)
        ).all()
        if not batch:
            break
        last_id = batch[-1].id
        for attempt in batch:
            attempts += 1
            if attempt.recording_path:
                path = Path(attempt.recording_path)
                if inside(path, recording_dirs):
                    recordings += 1
                    if not dry_run:
                        path.unlink(missing_ok=True)
                        attempt.recording_path = None
                elif path.exists() or path.is_symlink():
                    kept += 1
                elif not dry_run:
                    attempt.recording_path = None  # already gone
            if dry_run:
                continue
            attempt.transcript = None
            attempt.keypad = None
            attempt.answers = _stripped(attempt.answers)
            attempt.amd = _stripped_amd(attempt.amd)
            attempt.purged_at = now
        if not dry_run:
            session.flush()
    if kept:
        log.warning(
            "retention: %d outbound recordings lie outside the recording folders and were not deleted", kept
        )
    return OutboundPurge(attempts, recordings, kept)
