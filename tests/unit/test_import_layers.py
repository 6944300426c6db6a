"""Imports flow one way: every `dagster_project` module imports only its own layer or lower ones.

The order is written down once, here (docs/architecture.md points to it). Every import is
walked with `ast`, including imports inside functions and TYPE_CHECKING blocks: a lazy
import is still a dependency, and a cycle hidden in a function is still a cycle.
A module belongs to the layer of its longest listed prefix.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "dagster_project"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

# lowest first; a module may import modules of its own layer or of any layer before it
LAYERS: list[tuple[str, ...]] = [
    ("__init__", "lib"),                       # paths, files, identifiers, report URLs, alert log
    ("resources",),                            # the platform resource (where the zones are)
    ("ops.concurrency", "ops.policies"),       # pools, retries, automation: what assets declare
    ("quality",),                              # GX suites and reports
    ("sources",),                              # registry, landing, raw zone, ingest assets
    ("linkage",),
    ("warehouse",),
    ("cohorts",),
    ("outreach",),
    ("projection",),
    ("synthetic",),                            # the demo ICS reads the project registry
    ("ops",),                                  # sensors, alerts, report server over the areas
    ("definitions",),
    # entry points: run a named job of the Definitions in this process
    ("run", "__main__", "ops.jobs", "warehouse.build", "cohorts.build", "projection.build",
     "outreach.build", "outreach.loop"),
]


def layer_of(module: str) -> int:
    """The layer index of a `dagster_project.`-relative module name."""
    best, best_len = None, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    if best is None:
        raise AssertionError(f"{PACKAGE}.{module} is in no layer: add its package to LAYERS")
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, `dagster_project.`-relative module) of every project import in the tree."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
                names = [f"{PACKAGE}.{target}"] if target else [PACKAGE]
            else:
                names = [node.module or ""]
            if names == [PACKAGE]:  # from dagster_project import x
                names = [f"{PACKAGE}.{a.name}" for a in node.names]
        else:
            continue
        found += [(node.lineno, n[len(PACKAGE) + 1:]) for n in names if n.startswith(PACKAGE + ".")]
    return found


def violations() -> list[str]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        mine = layer_of(module)
        for line, target in imported(ast.parse(path.read_text()), module, path.name == "__init__.py"):
            theirs = layer_of(target)
            if theirs > mine:
                out.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} (layer {mine}) imports "
                           f"{target} (layer {theirs}, higher)")
    return out


def test_imports_flow_one_way():
    found = violations()
    assert not found, "imports against the layer order (tests/unit/test_import_layers.py):\n" + "\n".join(found)


def test_the_check_catches_an_upward_import(tmp_path):
    tree = ast.parse("def f():\n    from dagster_project.definitions import defs\n")
    targets = imported(tree, "sources.assets", False)
    assert targets == [(2, "definitions")]
    assert layer_of("definitions") > layer_of("sources.assets")
    # the longest prefix wins: ops.policies sits below the areas, ops.alerts above them
    assert layer_of("ops.policies") < layer_of("sources") < layer_of("ops.alerts")
    assert layer_of("warehouse.build") > layer_of("definitions") > layer_of("warehouse.assets")
