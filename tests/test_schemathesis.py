"""Generated input against openapi.yaml on the local stack: no 5xx for anything, every answer in
the documented shape, every refusal a JSON 4xx."""

import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import REPO

pytestmark = pytest.mark.stack

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_generated_requests_never_break_the_api(local_stack):
    result = subprocess.run(
        [str(SCHEMATHESIS), "--config-file", str(REPO / "tests" / "schemathesis.toml"), "run",
         str(REPO / "openapi.yaml"), "--url", local_stack.url, "--checks", "all", "--mode", "all",
         "--exclude-checks", "positive_data_acceptance,unsupported_method",  # why: tests/schemathesis.toml
         "--max-examples", "60"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-20000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout
