"""The house rules that no linter checks: what the Lambda code imports, and that it is declared."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from support.paths import REPO

PACKAGE = REPO / "layers" / "core" / "audiostream"
FUNCTIONS = sorted((REPO / "functions").glob("*/app.py"))
LOCAL_ONLY = {"moto", "devstack", "werkzeug", "pytest", "support", "uvicorn", "h11"}


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


# Each layer of the package and the layers it may import besides its own modules and the base
# (``audiostream.config``, ``observability``, ``errors``, ``aws``, ``workers``), which imports none of them.
BASE = {
    "audiostream.config",
    "audiostream.observability",
    "audiostream.errors",
    "audiostream.aws",
    "audiostream.workers",
}
LAYERS = {
    "media": set(),
    "speech": set(),
    "store": {"media"},
    "generation": {"media", "speech", "store"},
    "api": {"media", "speech", "store"},
}


def layer_of(module: str) -> str | None:
    """``media`` for ``audiostream.media.hls``; None for a base module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for name, imported in graph.items():
        own = layer_of(name)
        for other in sorted(imported - {"audiostream"}):
            if own is None:
                if other not in BASE:
                    found.append(f"{name} (the base) imports {other}")
            elif not (other in BASE or layer_of(other) == own or layer_of(other) in LAYERS[own]):
                found.append(f"{name} imports {other}: {own}/ may use only {sorted(LAYERS[own])} and the base")
    return found


def test_every_layer_imports_only_the_layers_below_it():
    assert layer_violations(package_modules()) == []


def test_the_layer_check_finds_a_forbidden_import():
    assert layer_violations({"audiostream.media.hls": {"audiostream.store.media_store"}})
    assert layer_violations({"audiostream.api.start": {"audiostream.generation.invocation"}})
    assert layer_violations({"audiostream.config": {"audiostream.media.hls"}})
    assert not layer_violations({"audiostream.generation.progress": {"audiostream.store.sessions"}})


def test_every_subpackage_says_what_it_holds():
    folders = [PACKAGE, *(path for path in PACKAGE.rglob("*") if path.is_dir() and path.name != "__pycache__")]
    for folder in folders:
        init = folder / "__init__.py"
        assert init.exists(), f"{folder.relative_to(REPO)} has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init.relative_to(REPO)} does not say what it holds"


def test_aws_clients_are_made_only_by_the_aws_module():
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "aws.py":
            continue
        # boto3's DynamoDB type (de)serialisers make no client.
        clients = {name for name in imports_of(path) if name.split(".")[0] == "boto3"} - {"boto3.dynamodb.types"}
        assert not clients, f"{path.relative_to(REPO)} imports {clients}: clients come from audiostream.aws"


def test_the_architecture_doc_maps_every_module_and_no_other():
    doc = (REPO / "docs" / "architecture.md").read_text()
    mapped = set(re.findall(r"^\| `([\w/]+\.py)` \|", doc, flags=re.M))
    present = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")}
    assert present - mapped == set(), "docs/architecture.md's module map does not name these"
    assert mapped - present == set(), "docs/architecture.md's module map names modules that do not exist"


def test_the_playlist_module_owns_the_media_names_and_knows_no_storage():
    assert not {name for name in package_modules()["audiostream.media.hls"] if layer_of(name) != "media"}
    source = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "hls.py")
    names = ['"audio.m3u8"', '"init.mp4"', "audio_%03d", "audio_{", '"subs.m3u8"', '"master.m3u8"']
    for literal in [*names, '"transcript.json"', '"audio.m4a"']:
        assert literal not in source, f"{literal} is spelt outside media/hls.py"


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
NEURAL_ENGINE = PACKAGE / "speech" / "engines" / "hibari.py"


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


LOCKS = {
    "requirements-dev.txt": "requirements-dev.lock",
    "requirements-tools.txt": "requirements-tools.lock",
    "layers/core/requirements.txt": "layers/core/requirements.lock",
    "layers/neural/requirements.txt": "layers/neural/requirements.lock",
}
_LOCKED = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+) \\$")


def locked(lock: Path) -> dict[str, tuple[str, int]]:
    """Each locked distribution's version and how many hashes it carries."""
    found: dict[str, tuple[str, int]] = {}
    name = None
    for line in lock.read_text().splitlines():
        if match := _LOCKED.match(line):
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[name] = (match.group(2), 0)
        elif name and line.strip().startswith("--hash=sha256:"):
            found[name] = (found[name][0], found[name][1] + 1)
        elif line.strip() and not line.startswith("#"):
            raise AssertionError(f"{lock.name}: unexpected line {line!r}")
    return found


@pytest.mark.parametrize("requirements, lock", LOCKS.items())
def test_every_pin_is_in_its_lock_file_with_hashes(requirements, lock):
    """The .lock files (make lock) are what every install uses, with --require-hashes: each names the
    .txt file's versions, and every distribution in it has its hashes."""
    entries = locked(REPO / lock)
    lines = [line.split("#")[0].strip() for line in (REPO / requirements).read_text().splitlines()]
    pins = [line for line in lines if line and not line.startswith("-r ")]
    declared = {re.sub(r"[-_.]+", "-", pin.split("==")[0].split("[")[0]).lower(): pin.split("==")[1] for pin in pins}
    for name, version in declared.items():
        assert name in entries, f"{name} is pinned in {requirements} but not locked: run make lock"
        assert entries[name][0] == version, f"{name}: {version} in {requirements}, {entries[name][0]} in {lock}"
    assert all(hashes for _version, hashes in entries.values()), f"{lock} has entries without hashes"


def test_the_core_layer_locks_the_versions_the_tests_run():
    dev, core = locked(REPO / "requirements-dev.lock"), locked(REPO / "layers" / "core" / "requirements.lock")
    assert {name: version for name, (version, _) in core.items()} == {name: dev[name][0] for name in core}, (
        "the core layer's lock differs from requirements-dev.lock: run make lock"
    )
