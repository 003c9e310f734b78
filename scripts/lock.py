"""The lock files: every Python dependency, direct or not, pinned with the hashes of its files.

The .txt files name what the project uses directly (pinned, by hand); ``make lock`` (this script,
run with the tools' environment, which has pip-tools) resolves them into .lock files, which is what
every install uses, with pip's --require-hashes:

    requirements-dev.txt         -> requirements-dev.lock          (make run, make test)
    requirements-tools.txt       -> requirements-tools.lock        (SAM CLI, cfn-lint, checkov, pip-tools)
    layers/core/requirements.txt -> layers/core/requirements.lock  (the core layer; the same versions
                                                                    as requirements-dev.lock)
    layers/neural/requirements.txt -> layers/neural/requirements.lock (its two pins alone: the layer
                                                                    installs them without dependencies)

Hashes are those of every file PyPI has for each version, so the same lock serves this machine and
the Lambda platform's wheels that `sam build` fetches. Only PyPI is asked (the machine's own pip
configuration, with local wheel folders, is left out).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/simple"
_ENTRY = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)")


def compile_lock(source: Path, lock: Path, constraints: Path | None = None, extras: bool = False) -> None:
    """``extras``: keep a distribution's extras on its line. pip's hash-checking mode needs them where a
    dependency asks for a distribution with extras (the SAM CLI's boto3-stubs[...]); a lock used as a
    constraint file (requirements-dev.lock, for the core layer's) must not have them."""
    environment = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "CUSTOM_COMPILE_COMMAND": "make lock"}
    with tempfile.TemporaryDirectory() as scratch:
        requirements = source
        if constraints is not None:
            requirements = Path(scratch) / "requirements.in"
            requirements.write_text(f"-c {constraints}\n-r {source}\n")
        command = [
            sys.executable, "-m", "piptools", "compile", "--quiet", "--generate-hashes", "--allow-unsafe",
            "--no-strip-extras" if extras else "--strip-extras", "--no-emit-index-url", "--no-emit-find-links",
            "--no-annotate",
            "--index-url", INDEX, "--output-file", str(lock), str(requirements),
        ]  # fmt: skip
        subprocess.run(command, check=True, env=environment, cwd=REPO)
    if extras:
        lock.write_text(_with_plain_twins(lock.read_text()))


def _with_plain_twins(text: str) -> str:
    """Each ``name[extras]==version`` block followed by ``name==version`` with the same hashes: pip's
    hash-checking mode takes a line as the pin only of a requirement spelt the same way, and one
    package asks for ``boto3[crt]`` where another asks for ``boto3``."""
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        end = index + 1
        while end < len(lines) and lines[end].startswith("    --hash="):
            end += 1
        block = lines[index:end]
        out += block
        found = re.match(r"^([A-Za-z0-9._-]+)\[[^\]]*\](==\S+ \\)$", block[0])
        if found:
            out += [found.group(1) + found.group(2), *block[1:]]
        index = end
    return "\n".join(out)


def entries(lock: Path) -> dict[str, str]:
    """Each locked distribution's block (its pin and hash lines), by normalised name."""
    blocks: dict[str, str] = {}
    name = None
    for line in lock.read_text().splitlines():
        found = _ENTRY.match(line)
        if found:
            name = normalised(found.group(1))
            blocks[name] = line
        elif name and line.startswith("    --hash="):
            blocks[name] += "\n" + line
        else:
            name = None
    return blocks


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path) -> dict[str, str]:
    found = {}
    for line in requirements.read_text().splitlines():
        match = _ENTRY.match(line.split("#")[0].strip())
        if match:
            found[normalised(match.group(1).split("[")[0])] = match.group(2)
    return found


def write_subset(lock: Path, names: dict[str, str], source: Path, target: Path) -> None:
    blocks = entries(lock)
    header = f"# The pins of {source.relative_to(REPO)} with their hashes, taken from {lock.name} by `make lock`.\n"
    target.write_text(header + "\n".join(blocks[name] for name in names) + "\n")


def main() -> None:
    dev, tools = REPO / "requirements-dev.lock", REPO / "requirements-tools.lock"
    compile_lock(REPO / "requirements-dev.txt", dev)
    compile_lock(REPO / "requirements-tools.txt", tools, extras=True)
    core = REPO / "layers" / "core"
    compile_lock(core / "requirements.txt", core / "requirements.lock", constraints=dev)
    neural = REPO / "layers" / "neural" / "requirements.txt"
    write_subset(dev, pins(neural), neural, neural.with_suffix(".lock"))


if __name__ == "__main__":
    main()
