"""Imports between the project's packages run one way: media <- stt / tts / dialog <- outbound, voicebot.

Every import is read from the source with ``ast``, including those inside functions, so a lazy import
cannot hide a dependency. ``media`` imports nothing of ours; ``stt``, ``tts``, ``dialog`` and ``models``
import only ``media`` and ``models`` (never each other, ``voicebot``, ``outbound`` or ``benchmarks``);
``outbound`` never imports ``voicebot``: its SIP dialer is handed to it by the CLI and the server.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = ("media", "stt", "tts", "dialog", "models", "voicebot", "outbound", "benchmarks")

# package -> the packages of ours it may import (itself always allowed)
ALLOWED: dict[str, frozenset[str]] = {
    "media": frozenset(),
    "models": frozenset({"media"}),
    "stt": frozenset({"media", "models"}),
    "tts": frozenset({"media", "models"}),
    "dialog": frozenset({"media"}),
    "outbound": frozenset({"media", "models", "stt", "tts", "dialog"}),
}


def imported_packages(path: Path, package: str) -> set[tuple[str, int]]:
    """(top-level package of ours, line) for every import in ``path`` (a module of ``package``), at any
    depth; a relative import stays inside ``package``."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [package] if node.level else [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".", 1)[0]
            if top in OURS:
                found.add((top, node.lineno))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_lower_layers_import_nothing_above_them(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no package {package}"
    wrong = [
        f"{path.relative_to(REPO)}:{line} imports {top}"
        for path in files
        for top, line in sorted(imported_packages(path, package))
        if top != package and top not in ALLOWED[package]
    ]
    assert not wrong, "imports against the layer direction:\n" + "\n".join(wrong)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text("def f():\n    from voicebot import cli\n    import stt.types\n    from . import x\n")
    assert {top for top, _ in imported_packages(sample, "media")} == {"voicebot", "stt", "media"}
