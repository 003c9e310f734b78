"""The dev stack (``python -m devstack``, what ``make run`` starts) and its storage server, for tests:
devstack/launcher.py (which the bench shares), failing the test where a stack does not start."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devstack.launcher import DevStack as LocalStack
from devstack.launcher import StackDidNotStart, start_dev_stack, storage_server_process
from devstack.launcher import stop_dev_stack as stop_local_stack

from .environment import is_outside_setting
from .paths import REPO

__all__ = ["LocalStack", "fresh_page", "start_local_stack", "stop_local_stack", "storage_server_process"]


def start_local_stack(log: Path, **env_changes) -> LocalStack:
    """``python -m devstack`` as ``make run`` starts it, on a free port."""
    # The tests start many sessions from one address, and poll them faster than the page does.
    changes = {
        "LOG_LEVEL": "WARNING",
        "LOCAL_RATE_LIMIT_PER_MINUTE": "0",
        "LOCAL_STATUS_RATE_LIMIT_PER_MINUTE": "0",
        "LOCAL_SESSIONS_PER_CLIENT": "0",
    }
    try:
        return start_dev_stack(log, {**changes, **env_changes}, outside=is_outside_setting)
    except StackDidNotStart as error:
        pytest.fail(str(error))


def fresh_page(folder: Path) -> Path:
    """The page as `make web` builds it, from the sources as they are now (web/dist may be stale)."""
    for source in (REPO / "web").glob("*.*"):
        shutil.copy(source, folder)
    shutil.copy(REPO / "node_modules" / "hls.js" / "dist" / "hls.min.js", folder)
    return folder
