"""The house: no import cycle among release_hook's modules, and every import runs downwards.

The graph is read from the source with `ast`, every `import` counted wherever it sits (module
level, inside a function, under TYPE_CHECKING), so a lazy import cannot hide a cycle.
"""
from __future__ import annotations

import ast
import fnmatch
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "release_hook"

# Top to bottom. A module may import from its own layer (if that makes no cycle) or below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("entry", ("__main__", "cli")),
    ("commands", ("doctor", "hooks", "hook_run", "pre_push", "bump_my_version")),
    ("runs", ("sync", "check_commit")),
    ("output", ("report",)),
    ("stages", ("resolve.*", "plan", "apply", "gitops", "scancache", "lockhashes", "relock", "locks")),
    ("reading", ("context", "pins", "walk", "walk.*", "shell", "dockerfile", "files", "reqfile", "reqfile.*",
                 "unmanaged")),
    ("bottom", ("found", "spans", "textlines", "errors", "config", "request", "names", "cache", "digests", "invocation", "",
                "records",
                "resolve")),
]


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (names relative to the package)."""
    return {k: set(v) for k, v in _import_graph(package).items()}


@functools.lru_cache(maxsize=4)  # parsing every module takes a quarter of a second; the tests share it
def _import_graph(package: Path) -> dict[str, frozenset[str]]:
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package
                    here = name.split(".")[: -node.level] if name else []
                    base = ".".join(["release_hook", *here, *([base] if base else [])])
                # `from release_hook import cache` imports the module cache; `from
                # release_hook.pins import Pin` the module pins.
                submodules = [f"{base}.{a.name}" for a in node.names if _rel(f"{base}.{a.name}") in modules]
                targets = submodules or [base]
            for t in targets:
                rel = _rel(t)
                if rel is not None and rel in modules:
                    deps.add(rel)
        deps.discard(name)
        graph[name] = frozenset(deps)
    return graph


def _rel(dotted: str) -> str | None:
    if dotted == "release_hook":
        return ""
    return dotted[len("release_hook."):] if dotted.startswith("release_hook.") else None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> int:
    for rank, (_, patterns) in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(module, p) for p in patterns):
            return rank
    raise AssertionError(f"release_hook.{module} is in no layer: add it to LAYERS in {__file__}")


def test_the_graph_is_read_from_every_import() -> None:
    graph = import_graph()
    assert "sync" in graph["cli"]  # a function-level import
    assert "walk" in graph["pins"]  # a function-level import
    assert "config" in graph["request"]  # under TYPE_CHECKING


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_imports_run_downwards() -> None:
    upward = [f"release_hook.{a} ({LAYERS[layer_of(a)][0]}) imports release_hook.{b} "
              f"({LAYERS[layer_of(b)][0]})"
              for a, deps in sorted(import_graph().items()) for b in sorted(deps)
              if layer_of(b) < layer_of(a)]
    assert upward == []


def test_the_checks_would_see_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    pkg = tmp_path / "release_hook"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sync.py").write_text("from release_hook import plan\n")
    (pkg / "plan.py").write_text("def f():\n    from release_hook.sync import run\n")
    graph = import_graph(pkg)
    assert cycles(graph) == [["plan", "sync"]]
    assert layer_of("plan") > layer_of("sync")  # plan -> sync runs upwards


@pytest.mark.parametrize("module", ["cli", "sync", "pins", "walk.kept", "resolve.index"])
def test_every_module_has_a_layer(module: str) -> None:
    for name in import_graph():
        layer_of(name)
    assert layer_of(module) >= 0


def test_one_walker_reads_a_dockerfile() -> None:
    """Only `release_hook.walk` reads RUN lines, and "is this pip install" is written once, in
    walk/commands.py: two walkers drifted apart before (a pin found, its pip run not)."""
    graph = import_graph()
    readers = sorted(m for m, deps in graph.items() if "shell" in deps)
    assert readers and all(m.startswith("walk.") for m in readers), readers
    tells = ('"-mpip"', "pip[0-9", "PIP_GLOBAL", "parse_script(", '"xargs"', '"micromamba"')
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.startswith("walk.") or name == "shell":
            continue
        text = path.read_text(encoding="utf-8")
        assert not [t for t in tells if t in text], f"release_hook.{name} reads commands: leave that to walk/"
    defines = {module_name(p) for p in PACKAGE.rglob("*.py") if '"-mpip"' in p.read_text(encoding="utf-8")}
    assert defines == {"walk.commands"}
    assert graph["pins"] <= {"walk", "found", "spans", "textlines", "dockerfile"}  # names only: it does not walk
    assert "stages" not in graph and not any(m == "find" or m.startswith("find.") for m in graph)


def test_one_table_of_base_images() -> None:
    """Issue 16: what a base image's name says (release, python3, glibc) is read from one
    table; no other module names a distribution release (image.py and the resolver's target
    ask baseimage.py)."""
    from release_hook.resolve.baseimage import RELEASES

    names = {r.codename for r in RELEASES} | {f"{r.distro.lower()}{r.version}" for r in RELEASES}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "baseimage.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in names:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value}")
    assert found == []
