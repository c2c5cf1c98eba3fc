"""Campaign scripts as YAML files staff can edit (``outbound/scripts/*.yaml``) and the conversation they drive.

A script file::

    kind: welfare_check            # or covid_notice
    title: 어르신 안부 확인
    slots: {required: [name], optional: []}
    global_keys: {"9": repeat, "0": agent}     # keys valid at every step that takes an answer
    agent_say: "..."               # said before a transfer to an agent
    emergency_say: "..."           # said before an emergency transfer
    max_repeats: 2                 # re-prompts per step (no answer, unclear answer, 9)
    answering_machine:             # optional: when a machine answers (voicebot.call.amd)
      voicemail: hang_up           # or leave_message: say ``message`` after the beep, then hang up
      message: "..."               # no {slot}: anyone may play a mailbox back
      screened: hang_up            # or identify: say ``identify`` to the phone's call screening
      identify: "..."
      detect: true                 # false: no detection, the script starts at once
      detector: {greeting_s: 1.8}  # the detector's settings (AMD_DETECTOR_SETTINGS)
    steps:
      - id: meals                  # unique, letters/digits/_
        say: "{name} 어르신, 식사는 잘 챙겨 드세요?"   # {slot} placeholders
        expect: answer             # none (just said) | yes_no | answer (a welfare answer)
        topic: meals               # answer steps: meals | health | sleep | mood | needs | general
        keys: {"1": fine, "2": not_fine}           # digit -> value (yes/no, or a welfare value)
        then: {no: wrong_person}   # value -> action: next | repeat | agent | hangup | <step id>
        when: result               # optional: the step is played only when this slot has a value
        identifies: true           # optional, yes_no steps: "yes" confirms the person is who we called
        end: true                  # optional: the call ends after this step (outcome: a name for it)

Values: ``yes_no`` steps give yes / no / unclear / no_input; ``answer`` steps give fine / not_fine /
concern / unclear / no_input (see :mod:`outbound.answers`). Unmapped values go to the next step, except
unclear and no_input, which re-prompt up to ``max_repeats`` times first. An emergency phrase at any step
ends the call with a transfer.

Welfare memory (issue 16): a :class:`Conversation` given a :class:`FollowUp` (the last concern the person
told us about) asks about it first, right after the person is identified: after the script's
``identifies`` step answered "yes", or, when the script has none, after a question of its own
("{name} 어르신 본인 맞으세요?") put before the first answer step. Without a "yes" the follow-up is skipped:
what is remembered is never read out to someone not identified. YAML 1.1 reads unquoted yes/no/on as booleans; the loader maps them back
(true -> yes, false -> no, a key ``on`` -> ``then``), so staff need not quote them. :func:`load_script` raises :class:`ScriptError` naming the file, the step
and what is wrong.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from outbound import answers
from outbound.schema import CAMPAIGN_KINDS

EXPECTS = ("none", "yes_no", "answer")
ACTIONS = ("next", "repeat", "agent", "hangup")
YES_NO_VALUES = ("yes", "no", "unclear", "no_input")
ANSWER_VALUES = ("fine", "not_fine", "concern", "unclear", "no_input")
KEYPAD = set("0123456789*#")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
_TOP_KEYS = {
    "kind",
    "title",
    "slots",
    "global_keys",
    "agent_say",
    "emergency_say",
    "max_repeats",
    "steps",
    "description",
    "answering_machine",
}
_MACHINE_KEYS = {"voicemail", "message", "screened", "identify", "detect", "detector"}
# The answering-machine detector's settings a script may set (voicebot.call.amd.AmdConfig, whose own check
# runs when a call is placed; outbound does not import voicebot, a test keeps the two lists the same):
# name -> "number" | "whole" | "flag".
AMD_DETECTOR_SETTINGS = {
    "initial_silence_s": "number",
    "greeting_s": "number",
    "after_greeting_silence_s": "number",
    "total_analysis_s": "number",
    "min_word_s": "number",
    "between_words_silence_s": "number",
    "max_words": "whole",
    "vad_aggressiveness": "whole",
    "words": "flag",
    "transcribe_every_s": "number",
    "word_pause_s": "number",
    "words_grace_s": "number",
    "message_end_silence_s": "number",
    "max_message_s": "number",
    "beep_min_ms": "whole",
    "beep_low_hz": "number",
    "beep_high_hz": "number",
}
_STEP_KEYS = {"id", "say", "expect", "topic", "keys", "then", "when", "end", "outcome", "identifies"}


def _word(value: Any) -> Any:
    """Undo YAML 1.1's booleans: yes/no written unquoted come back as True/False."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


class ScriptError(ValueError):
    """A script file is malformed; the message names the file, the step and the problem."""


@dataclass(frozen=True)
class Step:
    id: str
    say: str
    expect: str = "none"
    topic: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    on: dict[str, str] = field(default_factory=dict)
    when: str | None = None
    end: bool = False
    outcome: str | None = None
    identifies: bool = False  # a yes_no step whose "yes" confirms who answered


@dataclass(frozen=True)
class Script:
    name: str
    kind: str
    title: str
    steps: tuple[Step, ...]
    required_slots: tuple[str, ...] = ("name",)
    optional_slots: tuple[str, ...] = ()
    global_keys: dict[str, str] = field(default_factory=dict)
    agent_say: str = "상담원에게 연결해 드리겠습니다. 잠시만 기다려 주세요."
    emergency_say: str = "지금 바로 상담원에게 연결해 드리겠습니다. 전화를 끊지 말고 기다려 주세요."
    max_repeats: int = 2
    source: str = ""
    # What a call does when a machine answers: {"voicemail": "hang_up" | "leave_message", "message": …,
    # "screened": "hang_up" | "identify", "identify": …, "detect": bool, "detector": {…}}; see the module.
    answering_machine: dict[str, Any] = field(default_factory=dict)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def parse_script(data: Any, source: str = "<script>", kinds: tuple[str, ...] = CAMPAIGN_KINDS) -> Script:
    """Validate parsed YAML ``data`` and build a :class:`Script`; errors name ``source`` and the step.
    ``kinds``: the kinds allowed (a campaign's; ``outbound.callbacks`` builds its own "callback" script)."""

    def fail(where: str, problem: str) -> ScriptError:
        return ScriptError(f"{source}: {where}: {problem}")

    if not isinstance(data, dict):
        raise fail("top level", "expected a mapping with kind, slots and steps")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise fail("top level", f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    kind = data.get("kind")
    if kind not in kinds:
        raise fail("kind", f"{kind!r} is not one of {', '.join(kinds)}")
    slots = data.get("slots") or {}
    if not isinstance(slots, dict):
        raise fail("slots", "expected a mapping with required and optional lists")
    required = tuple(str(s) for s in slots.get("required") or ())
    optional = tuple(str(s) for s in slots.get("optional") or ())
    known_slots = set(required) | set(optional)
    max_repeats = data.get("max_repeats", 2)
    if not isinstance(max_repeats, int) or not 0 <= max_repeats <= 5:
        raise fail("max_repeats", "must be a whole number from 0 to 5")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("steps", "expected a non-empty list of steps")

    ids: list[str] = []
    for number, raw in enumerate(raw_steps, 1):
        step_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(step_id, str) or not _ID.match(step_id):
            raise fail(f"step #{number}", f"needs an id of letters, digits and _ (got {step_id!r})")
        if step_id in ids:
            raise fail(f"step #{number} {step_id!r}", "duplicate step id")
        ids.append(step_id)

    def check_action(where: str, action: Any) -> str:
        if not isinstance(action, str) or (action not in ACTIONS and action not in ids):
            raise fail(where, f"action {action!r} is not one of {', '.join(ACTIONS)} or a step id")
        return action

    def check_text(where: str, text: Any) -> str:
        if not isinstance(text, str) or not text.strip():
            raise fail(where, "needs non-empty text")
        missing = _placeholders(text) - known_slots
        if missing:
            raise fail(where, f"uses undeclared slot(s) {', '.join(sorted(missing))}")
        return text.strip()

    global_keys = {}
    for digit, action in (data.get("global_keys") or {}).items():
        digit = str(digit)
        if digit not in KEYPAD:
            raise fail("global_keys", f"{digit!r} is not a keypad key")
        global_keys[digit] = check_action(f"global_keys {digit!r}", action)

    steps: list[Step] = []
    for number, raw in enumerate(raw_steps, 1):
        where = f"step #{number} {raw['id']!r}"
        if True in raw:  # "on:" unquoted is a boolean key in YAML 1.1
            raw = {("then" if k is True else k): v for k, v in raw.items()}
        unknown = set(raw) - _STEP_KEYS
        if unknown:
            raise fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        expect = raw.get("expect", "none")
        if expect not in EXPECTS:
            raise fail(where, f"expect {expect!r} is not one of {', '.join(EXPECTS)}")
        values = YES_NO_VALUES if expect == "yes_no" else ANSWER_VALUES
        topic = raw.get("topic")
        if expect == "answer":
            topic = topic or "general"
            if topic not in answers.TOPICS:
                raise fail(where, f"topic {topic!r} is not one of {', '.join(answers.TOPICS)}")
        keys: dict[str, str] = {}
        for digit, value in (raw.get("keys") or {}).items():
            digit, value = str(digit), _word(value)
            if digit not in KEYPAD:
                raise fail(where, f"keys: {digit!r} is not a keypad key")
            if expect == "none":
                raise fail(where, "keys given but the step takes no answer (expect: none)")
            if value not in values and value not in ACTIONS and value not in ids:
                raise fail(where, f"keys {digit!r}: {value!r} is not one of {', '.join(values)} or an action")
            keys[digit] = value
        on: dict[str, str] = {}
        for value, action in (raw.get("then") or {}).items():
            value = _word(value)
            if value not in values:
                raise fail(where, f"then: {value!r} is not one of {', '.join(values)}")
            on[value] = check_action(f"{where} then {value!r}", _word(action))
        when = raw.get("when")
        if when is not None and when not in known_slots:
            raise fail(where, f"when: {when!r} is not a declared slot")
        identifies = raw.get("identifies", False)
        if not isinstance(identifies, bool) or (identifies and expect != "yes_no"):
            raise fail(where, "identifies: must be true or false, and true only on a yes_no step")
        steps.append(
            Step(
                id=raw["id"],
                say=check_text(where, raw.get("say")),
                expect=expect,
                topic=topic,
                keys=keys,
                on=on,
                when=when,
                end=bool(raw.get("end", False)),
                outcome=raw.get("outcome"),
                identifies=identifies,
            )
        )
    return Script(
        name=Path(source).stem,
        kind=kind,
        title=str(data.get("title") or Path(source).stem),
        steps=tuple(steps),
        required_slots=required,
        optional_slots=optional,
        global_keys=global_keys,
        agent_say=check_text("agent_say", data.get("agent_say", Script.agent_say)),
        emergency_say=check_text("emergency_say", data.get("emergency_say", Script.emergency_say)),
        max_repeats=max_repeats,
        source=source,
        answering_machine=_answering_machine(data.get("answering_machine"), fail),
    )


def _answering_machine(raw: Any, fail: Any) -> dict[str, Any]:
    """The ``answering_machine`` section, checked: what to do with a voicemail or a call screening, and
    the detector's settings. Messages for a machine take no {slot}: they are not said to an identified
    person."""
    where = "answering_machine"
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise fail(where, "expected a mapping (voicemail, message, screened, identify, detect, detector)")
    unknown = set(raw) - _MACHINE_KEYS
    if unknown:
        raise fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    out: dict[str, Any] = {}
    for key, choices in (("voicemail", ("hang_up", "leave_message")), ("screened", ("hang_up", "identify"))):
        value = raw.get(key, "hang_up")
        if value not in choices:
            raise fail(f"{where}.{key}", f"{value!r} is not one of {', '.join(choices)}")
        out[key] = value
    for key, needed in (
        ("message", out["voicemail"] == "leave_message"),
        ("identify", out["screened"] == "identify"),
    ):
        text = raw.get(key)
        if text is None:
            if needed:
                raise fail(f"{where}.{key}", "needs the words to say")
            continue
        if not isinstance(text, str) or not text.strip():
            raise fail(f"{where}.{key}", "needs non-empty text")
        if _placeholders(text):
            raise fail(f"{where}.{key}", "may not use {slots}: a machine is not the person")
        out[key] = " ".join(text.split())
    detect = raw.get("detect", True)
    if not isinstance(detect, bool):
        raise fail(f"{where}.detect", "must be true or false")
    out["detect"] = detect
    settings = raw.get("detector") or {}
    if not isinstance(settings, dict):
        raise fail(f"{where}.detector", "expected a mapping of settings")
    detector = {}
    for name, value in settings.items():
        kind = AMD_DETECTOR_SETTINGS.get(str(name))
        if kind is None:
            raise fail(f"{where}.detector", f"unknown setting {name!r}")
        if kind == "flag" and not isinstance(value, bool):
            raise fail(f"{where}.detector.{name}", "must be true or false")
        if kind != "flag" and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
            raise fail(f"{where}.detector.{name}", "must be a number, 0 or more")
        if kind == "whole" and int(value) != value:
            raise fail(f"{where}.detector.{name}", "must be a whole number")
        detector[str(name)] = value
    if detector:
        out["detector"] = detector
    return out


def load_script(name_or_path: str | Path) -> Script:
    """A script by bundled name (``covid_notice``, ``welfare_check``) or by file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        bundled = resources.files("outbound") / "scripts" / f"{name_or_path}.yaml"
        if not bundled.is_file():
            raise ScriptError(f"{name_or_path}: no such script; bundled: {', '.join(bundled_scripts())}")
        text, source = bundled.read_text(encoding="utf-8"), f"{name_or_path}.yaml"
    else:
        try:
            text, source = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptError(f"{path}: cannot read the script file ({exc.__class__.__name__})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScriptError(f"{source}: {at}: not valid YAML ({problem})") from exc
    return parse_script(data, source)


def bundled_scripts() -> list[str]:
    folder = resources.files("outbound") / "scripts"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


# --- the conversation ---------------------------------------------------------------------------------


@dataclass
class AnswerRecord:
    step: str
    value: str
    via: str  # speech | dtmf | timeout
    topic: str | None = None
    text: str | None = None  # what the person said (stored with the attempt, never logged)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class FollowUp:
    """The remembered concern a check-in asks about first (``outbound.welfare.follow_up_for``)."""

    memory_id: int
    topic: str
    summary: str  # the clause quoted: "허리가 아프다고"

    def question(self) -> str:
        return (
            f"지난번에 {self.summary} 하셨는데 요즘은 좀 어떠세요? "
            "좀 나아지셨으면 1번, 아직 좋지 않으시면 2번을 누르시거나 편하게 말씀해 주세요."
        )


FOLLOW_UP_STEP = "follow_up"
_FOLLOW_UP_IDENTIFY = "follow_up_identify"
_FOLLOW_UP_WRONG = "follow_up_wrong_person"


def _with_follow_up(script: Script, follow_up: FollowUp) -> Script:
    """``script`` with the follow-up question after the step that identifies the person (one of its own
    when the script has none and knows the name); unchanged when it cannot identify anyone."""
    steps = list(script.steps)
    at = next((i for i, s in enumerate(steps) if s.identifies), None)
    if at is None:
        first_answer = next((i for i, s in enumerate(steps) if s.expect == "answer"), None)
        if first_answer is None or "name" not in script.required_slots:
            return script
        steps.insert(
            first_answer,
            Step(
                _FOLLOW_UP_IDENTIFY,
                "지난번 통화 내용을 여쭤보려고 하는데요, {name} 어르신 본인 맞으세요? "
                '맞으시면 "네" 또는 1번, 아니시면 2번을 눌러 주세요.',
                expect="yes_no",
                keys={"1": "yes", "2": "no"},
                on={"no": _FOLLOW_UP_WRONG, "no_input": "repeat"},
                identifies=True,
            ),
        )
        steps.append(
            Step(
                _FOLLOW_UP_WRONG,
                "죄송합니다, 전화를 잘못 드렸습니다. 양해 부탁드립니다. 좋은 하루 보내세요.",
                when="_never_in_order",  # reached only by the "no" above
                end=True,
                outcome="wrong_person",
            )
        )
        at = first_answer
    question = follow_up.question().replace("{", "{{").replace("}", "}}")  # staff text is not a template
    steps.insert(
        at + 1,
        Step(
            FOLLOW_UP_STEP,
            question,
            expect="answer",
            topic=follow_up.topic,
            keys={"1": "fine", "2": "not_fine"},
        ),
    )
    return replace(script, steps=tuple(steps))


class Conversation:
    """One call through a script, independent of audio: ``start()`` gives the first thing to say,
    ``respond(text=..., digit=...)`` (or ``respond()`` for silence) the next, until ``ended``.

    ``outcome`` is completed | transfer | emergency | hangup | no_response, or a step's ``outcome`` name
    (e.g. wrong_person).
    """

    def __init__(self, script: Script, slots: dict[str, str], follow_up: FollowUp | None = None):
        missing = [s for s in script.required_slots if not str(slots.get(s) or "").strip()]
        if missing:
            raise ScriptError(f"{script.source}: missing slot value(s): {', '.join(missing)}")
        self.follow_up = follow_up
        self.script = _with_follow_up(script, follow_up) if follow_up is not None else script
        self.identified = False  # an ``identifies`` step was answered "yes"
        self.slots = {k: str(v) for k, v in slots.items() if v is not None and str(v).strip()}
        self.index = -1
        self.repeats = 0
        self.ended = False
        self.outcome: str | None = None
        self.emergency: str | None = None
        self.answers: list[AnswerRecord] = []
        self.said: list[str] = []
        self.heard: list[str] = []
        self.keypad = ""

    # -- public -------------------------------------------------------------------------------------

    @property
    def step(self) -> Step | None:
        return None if self.ended or self.index < 0 else self.script.steps[self.index]

    def start(self) -> str:
        return self._enter(self._following(-1))

    def respond(self, text: str | None = None, digit: str | None = None) -> str:
        """The person's answer to the current step (None and None: no answer before the timeout)."""
        step = self.step
        if step is None:
            return ""
        if digit:
            self.keypad += digit
            if digit in step.keys:
                return self._value(step, step.keys[digit], "dtmf", None, f"key_{digit}")
            if digit in self.script.global_keys:
                return self._act(step, self.script.global_keys[digit])
            return self._value(step, "unclear", "dtmf", None, "key_other")
        if text is not None and text.strip():
            self.heard.append(text)
            kind = answers.detect_emergency_answer(text)
            if kind is not None:
                self.emergency = kind
                self.answers.append(AnswerRecord(step.id, "emergency", "speech", step.topic, text, kind))
                return self._finish("emergency", self.script.emergency_say)
            if answers.wants_agent(text):
                return self._act(step, "agent")
            if answers.wants_repeat(text):
                return self._act(step, "repeat")
            if step.expect == "yes_no":
                return self._value(step, answers.yes_no(text) or "unclear", "speech", text, "speech")
            if step.id == FOLLOW_UP_STEP:
                got = answers.classify_follow_up(text, step.topic or "general")
            else:
                got = answers.classify_welfare(text, step.topic or "general")
            return self._value(step, got.value, "speech", text, got.reason)
        return self._value(step, "no_input", "timeout", None, "timeout")

    def values(self) -> dict[str, dict[str, Any]]:
        """The last answer per step, for storing with the attempt."""
        return {a.step: a.as_dict() for a in self.answers}

    def result(self) -> dict[str, Any]:
        welfare = [a.value for a in self.answers if a.topic and a.value != "no_input"]
        data: dict[str, Any] = {
            "script": self.script.name,
            "kind": self.script.kind,
            "outcome": self.outcome or ("in_progress" if not self.ended else "completed"),
            "steps": self.values(),
        }
        if (
            self.script.kind == "callback"
        ):  # the booking this call returns (outbound.callbacks): ids and codes
            data["callback"] = dict(self.slots)
        if self.script.kind == "welfare_check":
            latest = {a.step: a.value for a in self.answers if a.topic}
            data["overall"] = answers.overall(list(latest.values()) or welfare)
        if self.emergency:
            data["emergency"] = self.emergency
        if any(s.identifies for s in self.script.steps):
            data["identified"] = self.identified
        if self.follow_up is not None:
            asked = [a for a in self.answers if a.step == FOLLOW_UP_STEP]
            data["follow_up"] = {
                "memory_id": self.follow_up.memory_id,
                "topic": self.follow_up.topic,
                "asked": bool(asked) or (self.step is not None and self.step.id == FOLLOW_UP_STEP),
                "value": asked[-1].value if asked else None,
            }
        return data

    # -- internals ----------------------------------------------------------------------------------

    def _following(self, index: int) -> int:
        index += 1
        while index < len(self.script.steps) and self._skipped(self.script.steps[index]):
            index += 1
        return index

    def _skipped(self, step: Step) -> bool:
        if step.id == FOLLOW_UP_STEP and not self.identified:
            return True  # never read out to someone not identified
        return step.when is not None and step.when not in self.slots

    def _render(self, step: Step) -> str:
        return step.say.format_map(self.slots)

    def _enter(self, index: int, prefix: str = "") -> str:
        parts = [prefix] if prefix else []
        while True:
            if index >= len(self.script.steps):
                self._finish("completed", "")
                break
            self.index, self.repeats = index, 0
            step = self.script.steps[index]
            parts.append(self._render(step))
            if step.end:
                self._finish(step.outcome or "completed", "")
                break
            if step.expect != "none":
                break
            index = self._following(index)
        text = " ".join(p for p in parts if p)
        if text:
            self.said.append(text)
        return text

    def _finish(self, outcome: str, say: str) -> str:
        self.ended, self.outcome = True, outcome
        if say:
            self.said.append(say)
        return say

    def _value(self, step: Step, value: str, via: str, text: str | None, reason: str) -> str:
        if value in ACTIONS or (value not in YES_NO_VALUES + ANSWER_VALUES):
            return self._act(step, value)  # a key mapped straight to an action or a step
        self.answers.append(AnswerRecord(step.id, value, via, step.topic, text, reason))
        if step.identifies and value == "yes":
            self.identified = True
        action = step.on.get(value)
        if action is None:
            if value in ("unclear", "no_input") and self.repeats < self.script.max_repeats:
                action = "repeat"
            else:
                action = "next"
        if action == "repeat" and self.repeats >= self.script.max_repeats:
            action = step.on.get("no_input", "next") if value == "no_input" else "next"
            if action == "repeat":
                action = "hangup"
            if value == "no_input" and action == "hangup":
                return self._finish("no_response", "")
        return self._act(step, action)

    def _act(self, step: Step, action: str) -> str:
        if action == "repeat":
            if self.repeats >= self.script.max_repeats:
                return self._enter(self._following(self.index))
            self.repeats += 1
            text = self._render(step)
            self.said.append(text)
            return text
        if action == "agent":
            return self._finish("transfer", self.script.agent_say)
        if action == "hangup":
            return self._finish("hangup", "")
        if action == "next":
            return self._enter(self._following(self.index))
        return self._enter(self.script.steps.index(self.script.step(action)))
