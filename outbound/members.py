"""A campaign member's own values and the slot values a call of the campaign is given.

A person (``Contact``) is shared by phone number across campaigns; what one campaign's contact file says
about them belongs to that campaign's membership (``CampaignContact``): the notes column as written and the
script values in it (``date=3월 5일; place=중구 보건소; result=음성``). A call gets the campaign-wide values,
then the member's own, then the person's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from outbound.schema import Campaign, CampaignContact

NOTE_SLOT = re.compile(r"([A-Za-z_]+)\s*=\s*([^;\n]+)")
MAX_SLOT_LEN = 300  # as a campaign-wide value


def note_slots(notes: str) -> dict[str, str]:
    """The ``key=value`` pairs of a notes text (``;`` or a line break between pairs)."""
    return {k: v.strip() for k, v in NOTE_SLOT.findall(notes or "") if v.strip()}


def call_slots(campaign: Campaign, member: CampaignContact) -> dict[str, str]:
    """Campaign-wide values, then the member's own values, then the person's name."""
    return {**(campaign.slots or {}), **(member.slots or {}), "name": member.contact.name}


def missing(required: tuple[str, ...], slots: dict[str, str]) -> list[str]:
    return [s for s in required if not str(slots.get(s) or "").strip()]


@dataclass(frozen=True)
class Update:
    """How a re-import changed an existing member's values (for the import report)."""

    rows: tuple[int, ...]
    masked_phone: str
    changed: tuple[str, ...]  # slot names, and "notes" when the notes text changed


def apply_file_values(member: CampaignContact, notes: str) -> tuple[str, ...]:
    """Give an existing member what a newly imported file row says; returns what changed.

    A row with empty notes changes nothing (the file says nothing new); otherwise the notes text is the
    file's and its ``key=value`` pairs replace the member's values of the same names, others are kept."""
    if not notes:
        return ()
    old = dict(member.slots or {})
    new = {**old, **note_slots(notes)}
    changed = sorted(k for k in new if old.get(k) != new[k])
    if member.notes != notes:
        member.notes = notes
        changed.append("notes")
    if new != old:
        member.slots = new
    return tuple(changed)
