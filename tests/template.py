"""Reading template.yaml: CloudFormation's short tags (!Ref, !GetAtt, !Sub ...) become {"Ref": ...} etc."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


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
