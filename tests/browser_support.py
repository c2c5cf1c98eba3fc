"""What the real-browser tests share: where Debian's Chromium and playwright-core are, and the marks that
skip a test (saying what is missing) when they are not installed (`bash scripts/browser-deps.sh`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BROWSER_DIR = REPO / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def missing_browser_parts() -> list[str]:
    parts = (
        (f"{CHROMIUM} (apt chromium)", not CHROMIUM.exists()),
        ("node", shutil.which("node") is None),
        (
            "tests/browser/node_modules (npm ci)",
            not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(),
        ),
    )
    return [reason for reason, absent in parts if absent]


def browser_test_marks() -> list[pytest.MarkDecorator]:
    missing = missing_browser_parts()
    return [
        pytest.mark.slow,
        pytest.mark.skipif(
            bool(missing), reason=f"browser test needs {', '.join(missing)}: run scripts/browser-deps.sh"
        ),
    ]
