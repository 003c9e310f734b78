"""openapi.yaml, made from the HTTP functions' own apps (start, status, cancel): the contract has one
source, the routes and their pydantic models (audiostream.api.models).

    .venv/bin/python scripts/openapi.py           # rewrite openapi.yaml
    .venv/bin/python scripts/openapi.py --check   # exit 1 if openapi.yaml differs (tests/test_openapi.py)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml
from fastapi.openapi.utils import get_openapi

from devstack.functions import load_function

REPO = Path(__file__).resolve().parents[1]
OPENAPI = REPO / "openapi.yaml"
HTTP_FUNCTIONS = ("start", "status", "cancel")
INFO = {
    "title": "audiostream",
    "version": "1.0",
    "description": (
        "A text becomes speech, streamed as HLS while it is still being made. The media itself is served under "
        "/media/hls/<session_id>/ (audio.m3u8, init.mp4, audio_000.m4s, ...). Generated from the functions' apps "
        "by scripts/openapi.py: edit the routes and audiostream.api.models, not this file."
    ),
}
# FastAPI's own description of a request it could not validate: our apps answer those as ErrorBody.
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def document() -> dict:
    """The merged OpenAPI document of the HTTP functions."""
    # The apps check their settings when imported; the names only need to be well formed here.
    example = json.loads((REPO / "events" / "env.example.json").read_text())["Parameters"]
    for name, value in example.items():
        os.environ.setdefault(name, value)
    paths: dict = {}
    schemas: dict = {}
    for function in HTTP_FUNCTIONS:
        app = load_function(function).app
        spec = get_openapi(title=INFO["title"], version=INFO["version"], routes=app.routes)
        paths.update(spec["paths"])
        schemas.update(spec.get("components", {}).get("schemas", {}))
    for operations in paths.values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in json.dumps(answer):
                del operation["responses"]["422"]
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    _reflow_descriptions(paths)
    _reflow_descriptions(schemas)
    return {"openapi": "3.1.0", "info": INFO, "paths": paths, "components": {"schemas": dict(sorted(schemas.items()))}}


def _reflow_descriptions(node: object) -> None:
    """Descriptions come from docstrings too: their line breaks are the source's, not the text's."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = " ".join(value.split())
            else:
                _reflow_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            _reflow_descriptions(item)


def rendered() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with openapi.yaml instead of writing it")
    arguments = parser.parse_args()
    text = rendered()
    if arguments.check:
        if OPENAPI.read_text() != text:
            print("openapi.yaml differs from what the apps describe: run scripts/openapi.py", file=sys.stderr)
            return 1
        return 0
    OPENAPI.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
