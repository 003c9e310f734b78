"""The house rules that no linter checks: what the Lambda code imports, and that it is declared."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from support.paths import REPO

PACKAGE = REPO / "layers" / "core" / "audiostream"
FUNCTIONS = sorted((REPO / "functions").glob("*/app.py"))
LOCAL_ONLY = {"moto", "devstack", "werkzeug", "pytest", "support"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of the modules a file imports at its top level or anywhere inside it."""
    tree = ast.parse(path.read_text())
    here = module_name(path).split(".") if path.is_relative_to(PACKAGE) else []
    if path.name != "__init__.py":
        here = here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
            elif node.module != "__future__":
                found.add(node.module)
    return found


def package_modules() -> dict[str, set[str]]:
    modules = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}
    return {name: {other for other in imported if other in modules} - {name} for name, imported in modules.items()}


def test_the_lambda_code_imports_nothing_local_only():
    for path in [*PACKAGE.rglob("*.py"), *FUNCTIONS]:
        roots = {name.split(".")[0] for name in imports_of(path)}
        assert not roots & LOCAL_ONLY, f"{path.relative_to(REPO)} imports {roots & LOCAL_ONLY}"


def test_the_package_has_no_import_cycles():
    graph = package_modules()
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in graph[name]:
            # A package imports its own modules (``engines`` -> ``engines.espeak``); that is no cycle.
            if other.startswith(name + "."):
                continue
            assert state.get(other) != "open", "import cycle: " + " -> ".join([*trail, name, other])
            if other not in state:
                visit(other, [*trail, name])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [])


def test_the_playlist_module_owns_the_media_names_and_knows_no_storage():
    assert not {"audiostream.storage", "audiostream.aws"} & package_modules()["audiostream.hls"]
    source = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "hls.py")
    for literal in ('"audio.m3u8"', '"init.mp4"', "audio_%03d", "audio_{"):
        assert literal not in source, f"{literal} is spelt outside hls.py"


def pinned(requirements: Path) -> dict[str, str]:
    declared = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line} is not pinned"
            declared[name.split("[")[0].lower().replace("_", "-")] = version
    return declared


# The optional layer's distributions, which only the engine that needs them may import.
NEURAL_ENGINE = PACKAGE / "engines" / "hibari.py"


def test_every_distribution_imported_directly_is_declared_and_pinned():
    core = pinned(REPO / "layers" / "core" / "requirements.txt")
    neural = pinned(REPO / "layers" / "neural" / "requirements.txt")
    distributions = packages_distributions()
    for path in [*PACKAGE.rglob("*.py"), *FUNCTIONS]:
        roots = {name.split(".")[0] for name in imports_of(path)}
        for root in sorted(roots - set(sys.stdlib_module_names) - {"audiostream"}):
            names = {name.lower().replace("_", "-") for name in distributions.get(root, [root])}
            allowed = {**core, **neural} if path == NEURAL_ENGINE else core
            assert names & set(allowed), f"{path.name} imports {root}, but none of {names} is pinned for its layer"
