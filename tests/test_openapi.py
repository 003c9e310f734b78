"""openapi.yaml is what the HTTP functions' apps describe (scripts/openapi.py writes it), and it
describes what they answer."""

import importlib.util

import yaml

from support.paths import REPO

spec = importlib.util.spec_from_file_location("openapi_script", REPO / "scripts" / "openapi.py")
openapi_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(openapi_script)


def test_the_committed_openapi_is_what_the_apps_describe(settings):
    assert (REPO / "openapi.yaml").read_text() == openapi_script.rendered(), (
        "openapi.yaml is stale: run .venv/bin/python scripts/openapi.py"
    )


def test_every_route_and_answer_is_described(settings):
    document = yaml.safe_load((REPO / "openapi.yaml").read_text())
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("POST", "/audiostream/start/"),
        ("GET", "/audiostream/task-status/{task_id}/"),
        ("GET", "/audiostream/engines/"),
        ("POST", "/audiostream/cancel/{task_id}/"),
    }
    start = document["paths"]["/audiostream/start/"]["post"]
    assert set(start["responses"]) == {"202", "400", "413", "422", "429", "503"}
    assert start["requestBody"]["content"]["application/json"]["schema"]["title"] == "StartBody"
    cancel = document["paths"]["/audiostream/cancel/{task_id}/"]["post"]
    assert set(cancel["responses"]) == {"202", "404", "409"}
    assert {"StartAnswer", "Status", "Engines", "ErrorBody", "AlreadyEndedBody"} <= set(
        document["components"]["schemas"]
    )
