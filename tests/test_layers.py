"""Imports between the project's packages run one way: media <- stt / tts / dialog <- outbound, voicebot,
and inside voicebot: call <- sip / webrtc / simulate / chat <- server <- cli.

Every import is read from the source with ``ast``, including those inside functions, so a lazy import
cannot hide a dependency. ``media`` imports nothing of ours; ``stt``, ``tts``, ``dialog`` and ``models``
import only ``media`` and ``models`` (never each other, ``voicebot``, ``outbound`` or ``benchmarks``);
``outbound`` never imports ``voicebot``: its SIP dialer is handed to it by the CLI and the server.
No module of the packages in ``CYCLE_FREE`` sits on an import cycle, lazy imports included.
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


# Inside voicebot: the call <- the transports (each on its own) <- the server <- the CLI. A module may
# import its own part and the parts of lower rank, never a part of its own rank or above.
VOICEBOT_PARTS: dict[str, int] = {
    "voicebot.call": 0,
    "voicebot.sip": 1,
    "voicebot.webrtc": 1,
    "voicebot.simulate": 1,
    "voicebot.listen": 1,
    "voicebot.chat": 1,  # text channels: the dialog and call.handoff, never a voice transport
    "voicebot.server": 2,
    "voicebot.cli": 3,
}


def voicebot_part(module: str) -> str | None:
    return next((p for p in VOICEBOT_PARTS if module == p or module.startswith(p + ".")), None)


def voicebot_imports(path: Path) -> set[tuple[str, int]]:
    """(module of voicebot, line) for every import of a voicebot module in ``path``, at any depth."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {(name, node.lineno) for name in names if name.startswith("voicebot.")}
    return found


def test_voicebot_parts_import_downwards_only() -> None:
    wrong = []
    for path in sorted((REPO / "voicebot").rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        own = voicebot_part(module)
        if own is None:
            continue
        for name, line in sorted(voicebot_imports(path)):
            other = voicebot_part(name)
            if other is not None and other != own and VOICEBOT_PARTS[other] >= VOICEBOT_PARTS[own]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not wrong, "imports against the direction call <- transports <- server <- cli:\n" + "\n".join(
        wrong
    )


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text("def f():\n    from voicebot import cli\n    import stt.types\n    from . import x\n")
    assert {top for top, _ in imported_packages(sample, "media")} == {"voicebot", "stt", "media"}


# ------------------------------------------------------------------------------------- import cycles
# The packages whose modules must not sit on an import cycle (counting imports inside functions and
# under ``if TYPE_CHECKING:``): every package of ours. The graph spans every package in OURS.
CYCLE_FREE = ("media", "stt", "tts", "dialog", "models", "outbound", "benchmarks", "voicebot")


def module_name(path: Path, root: Path) -> str:
    """``dialog/engine.py`` -> ``dialog.engine``; ``dialog/__init__.py`` -> ``dialog``."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def find_modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module (one per ``.py`` file) of ``packages`` under ``root``, by dotted name."""
    return {module_name(path, root): path for pkg in packages for path in sorted((root / pkg).rglob("*.py"))}


def _existing(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its longest prefix that is one of ``modules`` (``import a.b.c`` where only ``a.b``
    is a module of ours)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def module_imports(path: Path, modules: dict[str, Path], root: Path) -> set[tuple[str, int]]:
    """(module of ours, line) for every import in ``path``, at any depth. Relative imports are resolved
    against the module's package; ``from pkg import name`` is an import of ``pkg.name`` when that is a
    module, else of ``pkg`` itself."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str | None] = []
        if isinstance(node, ast.Import):
            targets = [_existing(alias.name, modules) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(
                    parts[: len(parts) - (node.level - 1)] + ([node.module] if node.module else [])
                )
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else _existing(base, modules))
        found.update((target, node.lineno) for target in targets if target is not None)
    return found


def import_graph(modules: dict[str, Path], root: Path) -> dict[str, dict[str, int]]:
    """module -> {module it imports: first line that imports it}."""
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in sorted(module_imports(path, modules, root)):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, {}):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(_cycle_through(component, graph) for component in components)


def _cycle_through(component: list[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """The shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for succ in sorted(graph[node]):
                if succ == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if succ in members and succ not in previous:
                    previous[succ] = node
                    following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle through {component}")


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    """``a:12 -> b:30 -> a``: each module with the line that imports the next."""
    steps = [f"{node}:{graph[node][succ]}" for node, succ in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join([*steps, cycle[-1]])


@pytest.mark.parametrize("package", CYCLE_FREE)
def test_no_import_cycles(package: str) -> None:
    graph = import_graph(find_modules(REPO, OURS), REPO)
    assert any(name.split(".", 1)[0] == package for name in graph), f"no package {package}"
    cycles = [
        describe(cycle, graph)
        for cycle in find_cycles(graph)
        if any(m.split(".", 1)[0] == package for m in cycle)
    ]
    assert not cycles, f"import cycles through {package}:\n" + "\n".join(cycles)


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import b\nA = 1\n"
    )
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (pkg / "c.py").write_text("import json\n\n\ndef g():\n    from pkg import A\n")
    (pkg / "d.py").write_text("from pkg.a import A\nfrom . import c\n")  # imports the cycle, is not on it
    modules = find_modules(tmp_path, ("pkg",))
    assert set(modules) == {"pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.c", "pkg.d"}
    graph = import_graph(modules, tmp_path)
    assert graph["pkg.sub.b"] == {"pkg.c": 2}
    assert graph["pkg.c"] == {"pkg": 5}
    cycles = find_cycles(graph)
    assert cycles == [["pkg", "pkg.a", "pkg.sub.b", "pkg.c", "pkg"]]
    assert describe(cycles[0], graph) == "pkg:1 -> pkg.a:3 -> pkg.sub.b:2 -> pkg.c:5 -> pkg"
    (pkg / "c.py").write_text("import json\n")
    assert find_cycles(import_graph(modules, tmp_path)) == []
