"""moto's S3 and DynamoDB server as a child process of the local stack.

A process of its own, as the storage services are in AWS: its request handling does not compete
with the API and the generation threads for the stack's interpreter lock. It dies with the stack.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    # Linux's PR_SET_PDEATHSIG: the kernel ends the child if the stack dies, even by SIGKILL.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_storage_server(host: str, port: int = 0, timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    port = port or _free_port(host)
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return process, f"http://{host}:{port}"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto's server did not start on {host}:{port}") from None
            time.sleep(0.05)


def stop_storage_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
