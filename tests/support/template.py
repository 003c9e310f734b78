"""Reading template.yaml: CloudFormation's short tags (!Ref, !GetAtt, !Sub ...) become {"Ref": ...} etc."""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from .paths import REPO

TOOLS_BIN = Path(os.environ.get("AUDIOSTREAM_TOOLS_BIN", REPO / ".venv-tools" / "bin"))
FUNCTIONS = ("StartFunction", "StatusFunction", "GenerateFunction", "FailedGenerationsFunction")


class _TemplateLoader(yaml.SafeLoader):
    pass


def _short_tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _short_tag)


@cache
def load_template(path: Path = REPO / "template.yaml") -> dict:
    return yaml.load(path.read_text(), Loader=_TemplateLoader)


def resources(kind: str | None = None) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in load_template()["Resources"].items()
        if kind is None or resource["Type"] == kind
    }


def function(name: str) -> dict:
    return resources("AWS::Serverless::Function")[name]["Properties"]


def policy_statements(name: str) -> list[dict]:
    return [statement for policy in function(name)["Policies"] for statement in policy["Statement"]]


def actions(name: str) -> set[str]:
    """Every IAM action the template grants the function ``name``."""
    found = set()
    for statement in policy_statements(name):
        listed = statement["Action"]
        found.update([listed] if isinstance(listed, str) else listed)
    return found


def tool(name: str, *args: str) -> subprocess.CompletedProcess:
    """One of the template tools (sam, cfn-lint, checkov) that `make tools` installs."""
    executable = TOOLS_BIN / name
    if not executable.exists():
        pytest.fail(f"{executable} is missing: `make test` installs the template tools (make tools)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run([str(executable), *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
