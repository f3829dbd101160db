"""Imports go one way: ext <- core <- {daq, analysis} <- gui <- cli.

Parsed from the source (every import, also those inside functions), so a
lazy import that breaks the layering is caught as well.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: package folder -> (import name, layer); a module may import only lower layers or its own package
PACKAGES = {"ext": ("hotfire.ext", 0), "core": ("hotfire.core", 1), "daq": ("hotfire.daq", 2),
            "analysis": ("hotfire.analysis", 2), "gui": ("hotfire.gui", 3), "cli": ("hotfire", 4)}


def _layer_of(module: str):
    best = None
    for folder, (name, layer) in PACKAGES.items():
        if module == name or module.startswith(name + "."):
            if best is None or len(name) > len(best[0]):
                best = (name, layer, folder)
    return best


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for a in node.names:  # `from hotfire import cmd_x`, `from hotfire.daq import journal`
                yield node.lineno, f"{node.module}.{a.name}"


def _violations(root=ROOT):
    out = []
    for folder, (name, layer) in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            for line, mod in _imports(path):
                if not (mod == "hotfire" or mod.startswith("hotfire.")):
                    continue
                target = _layer_of(mod)
                if target is None or target[2] == folder:
                    continue
                if target[1] >= layer:
                    out.append(f"{path.relative_to(root)}:{line}: imports {mod} ({target[2]}/, layer {target[1]} >= {layer})")
    return out


def test_imports_go_one_way():
    assert _violations() == []


def test_checker_sees_a_wrong_import(tmp_path):
    # the check itself can fail: a daq module importing analysis is reported
    (tmp_path / "daq").mkdir()
    (tmp_path / "daq" / "x.py").write_text("def f():\n    from hotfire.analysis import thrust\n")
    for folder in PACKAGES:
        (tmp_path / folder).mkdir(exist_ok=True)
    assert _violations(tmp_path) == ["daq/x.py:2: imports hotfire.analysis (analysis/, layer 2 >= 2)",
                             "daq/x.py:2: imports hotfire.analysis.thrust (analysis/, layer 2 >= 2)"]


def _module_name(path: pathlib.Path) -> str:
    folder = path.relative_to(ROOT).parts[0]
    rel = path.relative_to(ROOT / folder).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([PACKAGES[folder][0], *parts])


def test_no_import_cycles_at_module_level():
    # module-level imports only (those run at import time): a cycle there breaks imports
    graph = {}
    for folder in PACKAGES:
        for path in (ROOT / folder).rglob("*.py"):
            mod = _module_name(path)
            deps = set()
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("hotfire"):
                    deps.add(node.module)
                    deps.update(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Import):
                    deps.update(a.name for a in node.names if a.name.startswith("hotfire"))
            graph[mod] = deps
    graph = {m: {d for d in ds if d in graph and d != m} for m, ds in graph.items()}
    # packages import their own __init__ implicitly; drop edges to a parent package
    graph = {m: {d for d in ds if not m.startswith(d + ".")} for m, ds in graph.items()}
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for d in graph[m]:
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert cycles == []
