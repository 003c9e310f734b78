"""Loading the Lambda functions' handlers from ``functions/<name>/app.py`` (each module is named ``app``)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lambda_runtime import Handler

FUNCTIONS_DIR = Path(os.environ.get("FUNCTIONS_DIR", Path(__file__).resolve().parents[1] / "functions"))


def load_function(function: str, functions_dir: Path = FUNCTIONS_DIR) -> ModuleType:
    """The function's ``app.py``, imported as Lambda imports it (its cold start runs)."""
    path = Path(functions_dir) / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"audiostream_function_{function}", path)
    if spec is None or spec.loader is None:  # a path ending in .py always has a spec with a loader
        raise ImportError(f"no module at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_handler(function: str, functions_dir: Path = FUNCTIONS_DIR) -> Handler:
    handler: Handler = load_function(function, functions_dir).handler
    return handler
