"""The prompt catalogue: every sentence the bot can say, where it is said, and whether staff recorded it.

Sources: the ARS prompts of ``dialog.prompts`` (menus, reprompts, errors, goodbyes, escalations), every
knowledge-base answer and slot question (an answer with slots once per slot value), the outbound scripts'
lines, the call driver's fixed prompts, and the unit set of ``tts.units``. Each text is cut into the
sentences the synthesizer plays one by one (``tts.split_for_speech``), so a sentence recorded once is
played wherever it is said. A sentence with a placeholder (a callee's name, a date) becomes a slot
template: its fixed pieces are listed to record and the template goes to the library, which assembles it.

State of an entry: ``recorded`` (the library has a recording of this exact text), ``stale`` (a recording
was made for this entry but the text has changed since) or ``synthesized``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialog import KnowledgeBase, load_kb
from dialog import prompts as dialog_prompts
from outbound.schema import Attempt, CallLog, Campaign
from outbound.script import Script, bundled_scripts, load_script
from tts import split_for_speech
from tts.library import PromptLibrary, Recording, prompt_key
from tts.units import UNIT_SET, template_pieces
from voicebot.call import driver

INBOUND = "inbound"
UNITS = "units"
SYLLABLE_S = 0.2  # a Korean syllable at an agent's pace: how spoken time is estimated for coverage
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass
class Entry:
    id: str
    text: str
    key: str
    kind: str  # "sentence" | "piece" (fixed text of a slot template) | "unit"
    flows: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    state: str = "synthesized"
    heard: int = 0  # calls that heard it, estimated from call statistics (see heard_counts)
    recording: dict[str, Any] | None = None
    stale_recording: dict[str, Any] | None = None

    @property
    def estimated_s(self) -> float:
        return max(1, len(re.findall(r"[가-힣A-Za-z0-9]", self.text))) * SYLLABLE_S

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "key": self.key,
            "kind": self.kind,
            "flows": self.flows,
            "where": self.where,
            "state": self.state,
            "heard": self.heard,
            "estimated_s": round(self.estimated_s, 1),
            "recording": self.recording,
            "stale_recording": self.stale_recording,
        }


@dataclass(frozen=True)
class Source:
    id: str
    flow: str
    where: str
    text: str
    kind: str = "sentence"


def dialog_sources() -> Iterable[Source]:
    for name, value in vars(dialog_prompts).items():
        if not name.isupper() or name.startswith("_"):
            continue
        if isinstance(value, str):
            yield Source(f"dialog:{name}", INBOUND, f"ARS 안내 ({name})", value)
        elif isinstance(value, dict) and name.endswith(("_PROMPTS", "_REPLIES")):  # not codes or labels
            for sub, text in value.items():
                if isinstance(text, str):
                    yield Source(f"dialog:{name}.{sub}", INBOUND, f"ARS 안내 ({name}.{sub})", text)


def kb_sources(kb: KnowledgeBase) -> Iterable[Source]:
    for entry in kb:
        where = f"지식 답변 {entry.id} ({entry.title})"
        for spec in entry.slots:
            yield Source(f"kb:{entry.id}:ask:{spec.name}", INBOUND, f"{where} 질문", spec.prompt)
        if not entry.slots:
            yield Source(f"kb:{entry.id}", INBOUND, where, entry.answer)
            continue
        if len(entry.slots) == 1:
            spec = entry.slots[0]
            for value in kb.slot_values.get(spec.name, ()):
                yield Source(f"kb:{entry.id}:{value.name}", INBOUND, where, entry.render({spec.name: value}))


def script_sources(script: Script) -> Iterable[Source]:
    flow = f"script:{script.name}"
    label = f"발신 {script.title}"
    for step in script.steps:
        yield Source(f"{flow}:{step.id}", flow, f"{label} · {step.id}", step.say)
    yield Source(f"{flow}:agent_say", flow, f"{label} · 상담원 연결", script.agent_say)
    yield Source(f"{flow}:emergency_say", flow, f"{label} · 긴급", script.emergency_say)
    for key in ("message", "identify"):
        text = script.answering_machine.get(key)
        if isinstance(text, str) and text.strip():
            yield Source(f"{flow}:machine:{key}", flow, f"{label} · 자동응답기 {key}", text)


def driver_sources() -> Iterable[Source]:
    """The call driver's spoken fixed prompts (transfer failure, callback offer and answers)."""
    for name, value in vars(driver).items():
        if name.endswith("_KO") and isinstance(value, str):
            yield Source(f"call:{name}", INBOUND, f"통화 처리 ({name})", value)


def unit_sources() -> Iterable[Source]:
    for group, texts in UNIT_SET.items():
        for text in texts:
            yield Source(f"unit:{text}", UNITS, f"단위 · {group}", text, "unit")


def default_sources(kb: KnowledgeBase | None = None, scripts: list[Script] | None = None) -> list[Source]:
    kb = kb if kb is not None else load_kb()
    scripts = scripts if scripts is not None else [load_script(name) for name in bundled_scripts()]
    found = [*dialog_sources(), *driver_sources(), *kb_sources(kb)]
    for script in scripts:
        found += script_sources(script)
    return found + list(unit_sources())


def _stamp(recording: Recording) -> dict[str, Any]:
    current = recording.current_version
    return {
        "key": recording.key,
        "text": recording.text,
        "version": recording.current,
        "versions": len(recording.versions),
        "duration_s": current.duration_s if current else None,
        "cer": current.cer if current else None,
        "created": current.created if current else None,
    }


@dataclass
class Catalogue:
    entries: list[Entry]
    templates: list[str]

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if entry_id in e.ids), None)

    def coverage(self) -> list[dict[str, Any]]:
        """Per flow: the estimated spoken time of its prompts and the share of it played from recordings;
        ``heard_share`` weighs each prompt by the calls that heard it (None before any call was counted)."""
        rows: dict[str, dict[str, float]] = {}
        for entry in self.entries:
            done = entry.state == "recorded"
            for flow in entry.flows:
                row = rows.setdefault(
                    flow, dict.fromkeys(("n", "done", "s", "rec_s", "heard_s", "heard_rec_s"), 0.0)
                )
                row["n"] += 1
                row["done"] += done
                row["s"] += entry.estimated_s
                row["rec_s"] += entry.estimated_s if done else 0.0
                row["heard_s"] += entry.estimated_s * entry.heard
                row["heard_rec_s"] += entry.estimated_s * entry.heard if done else 0.0
        return [
            {
                "flow": flow,
                "prompts": int(row["n"]),
                "recorded": int(row["done"]),
                "spoken_s": round(row["s"], 1),
                "recorded_s": round(row["rec_s"], 1),
                "share": round(row["rec_s"] / row["s"], 3) if row["s"] else 0.0,
                "heard_share": round(row["heard_rec_s"] / row["heard_s"], 3) if row["heard_s"] else None,
            }
            for flow, row in sorted(rows.items())
        ]


def build_catalogue(library: PromptLibrary, sources: list[Source]) -> Catalogue:
    """Entries for ``sources`` cut into sentences, merged by text, with their recording state."""
    by_key: dict[str, Entry] = {}
    templates: dict[str, None] = {}

    def add(source: Source, text: str, index: int, kind: str) -> None:
        key = prompt_key(text)
        entry_id = f"{source.id}#{index}" if kind != "unit" else source.id
        entry = by_key.setdefault(key, Entry(entry_id, text, key, kind))
        if source.flow not in entry.flows:
            entry.flows.append(source.flow)
        if source.where not in entry.where:
            entry.where.append(source.where)
        if entry_id not in entry.ids:
            entry.ids.append(entry_id)

    for source in sources:
        if source.kind == "unit":
            add(source, source.text, 0, "unit")
            continue
        for index, sentence in enumerate(split_for_speech(source.text)):
            if not re.search(r"[가-힣A-Za-z]", sentence):
                continue
            if _PLACEHOLDER.search(sentence):
                templates.setdefault(sentence, None)
                for number, piece in enumerate(template_pieces(sentence)):
                    add(source, piece, index * 100 + number, "piece")
            else:
                add(source, sentence, index, "sentence")

    recordings = library.recordings()
    by_prompt_id: dict[str, Recording] = {}
    for recording in library.recordings(playable=False).values():
        for prompt_id in recording.prompt_ids:
            by_prompt_id[prompt_id] = recording
    for entry in by_key.values():
        found = recordings.get(entry.key)
        if found is not None:
            entry.state, entry.recording = "recorded", _stamp(found)
            continue
        old = next((by_prompt_id[i] for i in entry.ids if i in by_prompt_id), None)
        if old is not None and old.key != entry.key:
            entry.state, entry.stale_recording = "stale", _stamp(old)
    return Catalogue(list(by_key.values()), list(templates))


def catalogue(library: PromptLibrary, sources: list[Source] | None = None) -> Catalogue:
    """The catalogue of the deployed texts; its slot templates are written to the library for the calls."""
    built = build_catalogue(library, sources if sources is not None else default_sources())
    if library.recordings_present() or library.templates():
        library.set_templates(built.templates)
    return built


# The ARS prompts every inbound call hears on its usual path; the others are counted as unknown (0).
EVERY_INBOUND_CALL = ("dialog:GREETING#", "dialog:MENU#", "dialog:FOLLOW_UP#", "dialog:GOODBYE#")


def heard_counts(session: Session, since: datetime) -> Counter[str]:
    """How many calls since ``since`` heard each kind of prompt: "inbound" (every inbound call),
    "kb:<entry id>" (calls with that intent) and "script:<name>" (answered attempts of that script)."""
    counts: Counter[str] = Counter()
    for (intents,) in session.execute(select(CallLog.intents).where(CallLog.started_at >= since)):
        counts["inbound"] += 1
        for intent in set(intents or []):
            counts[f"kb:{intent}"] += 1
    answered = (
        select(Campaign.kind, Campaign.script, func.count(Attempt.id))
        .join(Attempt, Attempt.campaign_id == Campaign.id)
        .where(Attempt.answered_at.is_not(None), Attempt.answered_at >= since)
        .group_by(Campaign.kind, Campaign.script)
    )
    for kind, script, count in session.execute(answered):
        counts[f"script:{Path(script).stem if script else kind}"] += count
    return counts


def apply_heard(built: Catalogue, counts: Counter[str]) -> None:
    """Set each entry's ``heard`` from ``heard_counts``: the most any of its uses was heard."""
    for entry in built.entries:
        heard = 0
        for entry_id in entry.ids:
            if entry_id.startswith("kb:"):
                heard = max(heard, counts[f"kb:{entry_id[3:].split('#')[0].split(':')[0]}"])
            elif entry_id.startswith("script:"):
                heard = max(heard, counts[":".join(entry_id.split(":")[:2])])
            elif entry_id.startswith(EVERY_INBOUND_CALL):
                heard = max(heard, counts["inbound"])
        entry.heard = heard
