"""Every code the staff console shows (outcomes, answers, call results, emergency kinds, reasons, alert
kinds, dialers) has a Korean label in voicebot/server/static/console/format.js: staff never read a raw
English code such as "emergency". The labels are read by importing format.js in Node."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import get_args

import pytest

from dialog.emergency import EmergencyKind
from dialog.turns import Reason
from outbound.audit import ACTIONS as AUDIT_ACTIONS
from outbound.audit import TARGET_KINDS as AUDIT_TARGETS
from outbound.schema import ALERT_KINDS, ALERT_SEVERITIES, ATTEMPT_STATES, OUTCOMES
from outbound.script import ANSWER_VALUES, YES_NO_VALUES, bundled_scripts, load_script
from voicebot.server.config import DIALERS

FORMAT_JS = Path(__file__).parents[1] / "voicebot" / "server" / "static" / "console" / "format.js"
HANGUL = re.compile(r"[가-힣]")


def console_labels() -> dict[str, dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (bash scripts/browser-deps.sh)")
    script = (
        f"const m = await import({json.dumps(FORMAT_JS.as_uri())}); console.log(JSON.stringify(m.LABELS));"
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(run.stdout)


def test_console_translates_every_code_it_shows() -> None:
    labels = console_labels()
    scripts = [load_script(name) for name in bundled_scripts()]
    step_outcomes = {step.outcome for script in scripts for step in script.steps if step.outcome}
    expected = {
        "outcome": OUTCOMES,
        "state": ATTEMPT_STATES,
        # outbound.answers.overall and a step's answer: "emergency" among them
        "overall": (*ANSWER_VALUES, "emergency"),
        "answer": (*YES_NO_VALUES, *ANSWER_VALUES, "emergency"),
        # outbound.script.Conversation.outcome, and caller_hangup from the SIP dialer
        "callOutcome": (
            "completed",
            "transfer",
            "emergency",
            "hangup",
            "no_response",
            "caller_hangup",
            "in_progress",
            *step_outcomes,
        ),
        "emergency": get_args(EmergencyKind),
        "step": [step.id for script in scripts for step in script.steps],
        "reason": [str(r) for r in Reason],
        "alertKind": ALERT_KINDS,
        "severity": ALERT_SEVERITIES,
        "dialer": DIALERS,
        "transport": ("sip", "webrtc"),
        "auditAction": AUDIT_ACTIONS,
        "auditTarget": AUDIT_TARGETS,
    }
    missing = {
        group: [code for code in codes if code not in labels.get(group, {})]
        for group, codes in expected.items()
    }
    assert not {g: m for g, m in missing.items() if m}, missing
    english = {
        f"{group}.{code}": text
        for group, codes in labels.items()
        for code, text in codes.items()
        if not HANGUL.search(text)
    }
    assert not english, english
