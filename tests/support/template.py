"""Reading template.yaml: CloudFormation's short tags (!Ref, !GetAtt, !Sub ...) become {"Ref": ...} etc.

The template has conditions (Polly offered or not, a custom domain for the API or not), so what a
deployment holds depends on its parameters: ``resolved(parameters)`` is the template as CloudFormation
would see it for those values (each condition evaluated, each ``Fn::If`` chosen, ``AWS::NoValue`` and
the resources whose condition is false left out), and the helpers below read that, with the
parameters' defaults unless told otherwise. ``Ref`` and the other functions stay as written.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import pytest
import yaml

from .paths import REPO

TOOLS_BIN = Path(os.environ.get("AUDIOSTREAM_TOOLS_BIN", REPO / ".venv-tools" / "bin"))
FUNCTIONS = ("StartFunction", "StatusFunction", "CancelFunction", "GenerateFunction", "FailedGenerationsFunction")


class _TemplateLoader(yaml.SafeLoader):
    pass


def _short_tag(loader: yaml.Loader, suffix: str, node: yaml.Node):
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
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


# ------------------------------------------------------------------ parameters, conditions and rules

Parameters = Mapping[str, str] | None


def parameter_values(parameters: Parameters = None) -> dict[str, str]:
    """Every parameter's value, as CloudFormation passes it (a string): its default, unless given."""
    declared = load_template()["Parameters"]
    unknown = set(parameters or {}) - set(declared)
    assert not unknown, f"template.yaml declares no parameter {sorted(unknown)}"
    values = {name: str(parameter.get("Default", "")) for name, parameter in declared.items()}
    values.update({name: str(value) for name, value in (parameters or {}).items()})
    return values


def evaluate(expression, values: Mapping[str, str], condition: Callable[[str], bool] | None = None):
    """A condition or rule expression (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::Contains, Ref of a
    parameter, and in conditions Condition) with these parameter values."""
    if not isinstance(expression, dict):
        return expression
    ((function_name, argument),) = expression.items()
    if function_name == "Ref":
        assert argument in values, f"a condition or rule refers to {argument}, which is no parameter"
        return values[argument]
    if function_name == "Condition":
        assert condition is not None, f"Condition {argument} outside the Conditions section"
        return condition(argument)
    operands = [evaluate(operand, values, condition) for operand in argument]
    if function_name == "Fn::Equals":
        left, right = operands
        return str(left) == str(right)
    if function_name == "Fn::Not":
        (operand,) = operands
        return not operand
    if function_name == "Fn::And":
        return all(operands)
    if function_name == "Fn::Or":
        return any(operands)
    if function_name == "Fn::Contains":
        listed, value = operands
        return value in listed
    raise AssertionError(f"the tests cannot evaluate {function_name}: teach support/template.py")


def conditions(parameters: Parameters = None) -> dict[str, bool]:
    """Each condition of the template, for these parameter values."""
    values = parameter_values(parameters)
    declared = load_template().get("Conditions", {})
    found: dict[str, bool] = {}

    def condition(name: str) -> bool:  # a condition may name another, declared before or after it
        assert name in declared, f"no condition {name} in template.yaml"
        if name not in found:
            found[name] = bool(evaluate(declared[name], values, condition))
        return found[name]

    for name in declared:
        condition(name)
    return found


def rule_failures(parameters: Parameters = None) -> list[str]:
    """The descriptions of the template's rule assertions that fail for these parameter values: a
    deployment with them is refused before any resource changes."""
    values = parameter_values(parameters)
    failures = []
    for rule in load_template().get("Rules", {}).values():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], values):
            continue
        for assertion in rule["Assertions"]:
            if not evaluate(assertion["Assert"], values):
                failures.append(assertion.get("AssertDescription", str(assertion["Assert"])))
    return failures


_NO_VALUE = object()


def _choose(value, chosen: Mapping[str, bool]):
    if isinstance(value, dict):
        if value == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        if list(value) == ["Fn::If"]:
            condition, when_true, when_false = value["Fn::If"]
            return _choose(when_true if chosen[condition] else when_false, chosen)
        picked = {key: _choose(item, chosen) for key, item in value.items()}
        return {key: item for key, item in picked.items() if item is not _NO_VALUE}
    if isinstance(value, list):
        return [item for item in (_choose(item, chosen) for item in value) if item is not _NO_VALUE]
    return value


@cache
def _resolved(parameters: frozenset) -> dict:
    chosen = conditions(dict(parameters))
    template = copy.deepcopy(load_template())
    template["Resources"] = {
        name: resource
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or chosen[resource["Condition"]]
    }
    template["Outputs"] = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if "Condition" not in output or chosen[output["Condition"]]
    }
    for section in ("Globals", "Resources", "Outputs"):
        template[section] = _choose(template.get(section, {}), chosen)
    return template


def resolved(parameters: Parameters = None) -> dict:
    """The template as deployed with these parameter values (the defaults for the others)."""
    return _resolved(frozenset(parameter_values(parameters).items()))


# ------------------------------------------------------------------ what a deployment holds


def resources(kind: str | None = None, parameters: Parameters = None) -> dict[str, dict]:
    return {
        name: resource
        for name, resource in resolved(parameters)["Resources"].items()
        if kind is None or resource["Type"] == kind
    }


def function(name: str, parameters: Parameters = None) -> dict:
    return resources("AWS::Serverless::Function", parameters)[name]["Properties"]


def function_layers(name: str, parameters: Parameters = None) -> list:
    """The layers the function ``name`` gets (as written: ``{"Ref": "CoreLayer"}``): those of Globals, then
    its own (SAM appends a function's list to the global one, in this order; Lambda extracts them into
    /opt one after the other)."""
    own = function(name, parameters).get("Layers", [])
    return [*resolved(parameters)["Globals"]["Function"].get("Layers", []), *own]


def text_of(value, parameters: Parameters = None, names: Mapping[str, str] | None = None) -> str:
    """A value as CloudFormation gives it, when it names only parameters and the resources in ``names``
    (their stand-ins): a string, a number, ``Ref``, or ``Fn::Sub`` of a string."""
    known = {**parameter_values(parameters), **(names or {})}

    def named(name: str) -> str:
        assert name in known, f"the tests give no value to {name}, which the template names here"
        return known[name]

    if isinstance(value, dict) and list(value) == ["Ref"]:
        return named(value["Ref"])
    if isinstance(value, dict) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}!][^}]*)\}", lambda found: named(found.group(1)), value["Fn::Sub"])
    assert isinstance(value, (str, int, float)) and not isinstance(value, bool), f"cannot resolve {value!r}"
    return str(value)


def function_environment(name: str, parameters: Parameters = None) -> dict:
    """The variables the function ``name`` is given: Globals, then its own (values as written)."""
    variables = dict(resolved(parameters)["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(function(name, parameters).get("Environment", {}).get("Variables", {}))
    return variables


def policy_statements(name: str, parameters: Parameters = None) -> list[dict]:
    return [statement for policy in function(name, parameters)["Policies"] for statement in policy["Statement"]]


def actions(name: str, parameters: Parameters = None) -> set[str]:
    """Every IAM action the template grants the function ``name`` (in a deployment with these
    parameter values; the defaults unless given)."""
    found = set()
    for statement in policy_statements(name, parameters):
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
