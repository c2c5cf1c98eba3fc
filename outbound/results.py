"""Campaign results: CSV export of attempts and a per-campaign summary.

The export masks names and phone numbers and leaves out transcripts unless the caller asks for an
unmasked export with ``unmasked=True`` (for staff entitled to see personal data).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from outbound.phones import mask_name, mask_phone
from outbound.schema import (
    MACHINE_OUTCOMES,
    REACHED_OUTCOMES,
    Alert,
    Attempt,
    Campaign,
    CampaignContact,
    Contact,
)

EXPORT_COLUMNS = (
    "attempt_id",
    "campaign_id",
    "name",
    "phone",
    "attempt_number",
    "state",
    "outcome",  # human | answered | voicemail | carrier_message | screened | no_answer | busy | …
    "simulated",  # true: placed by the SIMULATED dialer, no real call was made
    "amd_outcome",  # what the answering-machine detector decided, and why (blank: it did not listen)
    "amd_reason",
    "amd_decision_s",  # seconds after answer
    "voicemail_message",  # true: a message was left after the beep
    "call_outcome",
    "overall",
    "answers",
    "emergency",
    "keypad",
    "sip_status",
    "duration_s",
    "due_at",
    "dialing_at",
    "answered_at",
    "ended_at",
    "error",
    "transcript",
)


# A cell starting with one of these is read as a formula by Excel/LibreOffice (=HYPERLINK, +cmd|…, @SUM,
# -2+3…) or turns a +82 phone into a number; a leading apostrophe makes it plain text (issue 17).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The cell as a spreadsheet shows it as text: strings that a spreadsheet would evaluate get a "'"."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise LookupError(f"no campaign {campaign_id}")
    return campaign


def export_attempts_csv(
    session: Session, campaign_id: int, out: IO[str] | str | Path | None = None, *, unmasked: bool = False
) -> str:
    """All attempts of a campaign as CSV (UTF-8 with BOM when written to a file, for Excel); returns the
    text. Times are in the campaign's time zone."""
    campaign = _campaign(session, campaign_id)
    tz = ZoneInfo(campaign.timezone)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    rows = session.execute(
        select(Attempt, Contact)
        .join(Contact, Contact.id == Attempt.contact_id)
        .where(Attempt.campaign_id == campaign_id)
        .order_by(Attempt.contact_id, Attempt.attempt_number, Attempt.id)
    ).all()
    for attempt, contact in rows:
        conv = attempt.answers or {}
        amd = attempt.amd or {}
        steps = conv.get("steps", {})
        answers = ";".join(f"{k}={v.get('value')}" for k, v in steps.items())

        def when(value: Any) -> str:
            return value.astimezone(tz).isoformat(timespec="seconds") if value else ""

        row = [
            attempt.id,
            attempt.campaign_id,
            contact.name if unmasked else mask_name(contact.name),
            contact.phone_e164 if unmasked else mask_phone(contact.phone_e164),
            attempt.attempt_number,
            attempt.state,
            attempt.outcome or "",
            "true" if attempt.simulated else "false",
            amd.get("outcome", ""),
            amd.get("reason", ""),
            amd.get("decided_s", ""),
            "true" if amd.get("message_left") else ("false" if amd else ""),
            conv.get("outcome", ""),
            conv.get("overall", ""),
            answers,
            conv.get("emergency", ""),
            attempt.keypad or "",
            attempt.sip_status if attempt.sip_status is not None else "",
            attempt.duration_s if attempt.duration_s is not None else "",
            when(attempt.due_at),
            when(attempt.dialing_at),
            when(attempt.answered_at),
            when(attempt.ended_at),
            attempt.error or "",
            (attempt.transcript or "") if unmasked else "",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    text = buffer.getvalue()
    if isinstance(out, str | Path):
        Path(out).write_text(text, encoding="utf-8-sig", newline="")
    elif out is not None:
        out.write(text)
    return text


def campaign_summary(session: Session, campaign_id: int) -> dict[str, Any]:
    """Reached rate, outcomes, concerns and alerts for one campaign."""
    campaign = _campaign(session, campaign_id)
    members = session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)).all()
    attempts = session.scalars(select(Attempt).where(Attempt.campaign_id == campaign_id)).all()
    alerts = session.scalars(select(Alert).where(Alert.campaign_id == campaign_id)).all()
    outcomes = Counter(a.outcome for a in attempts if a.outcome)
    spoke = [a for a in attempts if a.outcome in REACHED_OUTCOMES]
    reached = {a.contact_id for a in spoke}
    overall = Counter((a.answers or {}).get("overall") for a in spoke if a.answers)
    overall.pop(None, None)
    call_outcomes = Counter((a.answers or {}).get("outcome") for a in spoke if a.answers)
    call_outcomes.pop(None, None)
    total = len(members)
    return {
        "campaign_id": campaign.id,
        "kind": campaign.kind,
        "status": campaign.status,
        "contacts": total,
        "attempts": len(attempts),
        "pending_attempts": sum(a.state == "scheduled" for a in attempts),
        "simulated_attempts": sum(a.simulated for a in attempts),
        "reached": len(reached),
        "reached_rate": round(len(reached) / total, 4) if total else 0.0,
        "machines": sum(a.outcome in MACHINE_OUTCOMES for a in attempts),
        "voicemail_messages": sum(bool((a.amd or {}).get("message_left")) for a in attempts),
        "unreachable": sum(m.status == "unreachable" for m in members),
        "outcomes": dict(sorted(outcomes.items())),
        "call_outcomes": dict(sorted(call_outcomes.items())),
        "welfare": dict(sorted(overall.items())),
        "concerns": sum(a.kind in ("welfare_concern", "emergency") for a in alerts),
        "emergencies": sum(a.kind == "emergency" for a in alerts),
        "alerts": dict(sorted(Counter(a.kind for a in alerts).items())),
        "alerts_open": sum(a.acknowledged_at is None for a in alerts),
    }
