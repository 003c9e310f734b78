"""The local stack the bench measures: started as the tests start it (devstack/launcher.py), and what
the bench asks of it over HTTP, of its storage server and of its processes."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import boto3
import m3u8
import psutil
import requests

from audiostream.config import StorageSettings
from devstack.launcher import start_dev_stack, stop_dev_stack


class LocalStack:
    """`python -m devstack` on a free port, with its own moto, as `make run` starts it (its own engine
    defaults: hibari, then espeak; every request here names its engine all the same)."""

    def __init__(self, concurrency: int, settings: dict[str, str] | None = None):
        handle, name = tempfile.mkstemp(prefix="bench-stack-", suffix=".log")
        os.close(handle)
        self.log = Path(name)
        changes = {
            "LOCAL_GENERATE_CONCURRENCY": str(concurrency),
            # One client sends every request here: no per-client limit applies.
            "LOCAL_RATE_LIMIT_PER_MINUTE": "0",
            "LOCAL_STATUS_RATE_LIMIT_PER_MINUTE": "0",
            "LOCAL_SESSIONS_PER_CLIENT": "0",
            "MAX_TEXT_CHARS": "8000",
            "MAX_BODY_BYTES": "65536",
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
            **(settings or {}),
        }
        self.stack = start_dev_stack(self.log, changes)
        self.url, self.process = self.stack.url, self.stack.process
        self.http = requests.Session()
        self.storage_url = self.stack.storage_url()
        if self.storage_url is None:
            self.stop()
            raise RuntimeError("the local stack named no storage server of its own")
        # Where the stack keeps media: its settings, read from the same environment it was given.
        self.storage = StorageSettings()

    def stored_objects(self, session_id: str) -> dict[str, int]:
        """Name and size of every object the session stored."""
        s3 = boto3.client(
            "s3", endpoint_url=self.storage_url, region_name="us-east-1",
            aws_access_key_id="bench", aws_secret_access_key="bench",
        )  # fmt: skip
        prefix = f"{self.storage.media_prefix}/{session_id}/"
        listed = s3.list_objects_v2(Bucket=self.storage.media_bucket, Prefix=prefix)
        return {item["Key"].rsplit("/", 1)[-1]: item["Size"] for item in listed.get("Contents", [])}

    def storage_counts(self) -> dict:
        """The requests the storage server has received, by what AWS bills them as."""
        return self.http.get(self.storage_url + "/_requests", timeout=10).json()

    def memory_mb(self) -> float:
        """Memory of the whole process tree (the stack, ffmpeg, espeak-ng) as PSS: each shared page
        is split between the processes that map it, so the sum is what the tree really uses (RSS
        would count ffmpeg's shared libraries once per ffmpeg)."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total / 1e6

    def cpu_seconds(self) -> float:
        """CPU the stack's process used, with its finished children (each session's ffmpeg); not the
        storage server's (AWS's side of the bill, counted in requests)."""
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def start(self, spoken: str, engine: str, cache: bool = False) -> tuple[dict, float]:
        """A start; generated anew (``"cache": false``) unless ``cache``: repeated texts are the
        bench's way of timing, and a content-cache hit would time nothing but the cache."""
        began = time.perf_counter()
        body = {"text": spoken, "engine": engine, "cache": cache}
        answer = self.http.post(f"{self.url}/audiostream/start/", json=body, timeout=30)
        elapsed = time.perf_counter() - began
        if not answer.ok:
            raise RuntimeError(f"start with engine {engine!r} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json(), elapsed

    def status(self, started: dict) -> dict:
        return self.http.get(self.url + started["status_url"], timeout=30).json()

    def playlist(self, started: dict) -> m3u8.M3U8:
        return m3u8.loads(self.http.get(self.url + started["playlist"], timeout=30).text)

    def segments(self, started: dict) -> list:
        return self.playlist(started).segments

    def wait_until_ended(self, started: dict, engine: str, timeout: float = 300) -> dict:
        """The session's last status, once it has ended; raises unless ``engine`` spoke it."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(started)
            if status["state"] in ("SUCCESS", "FAILURE") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if status.get("engine") != engine:
            raise RuntimeError(f"asked for engine {engine!r}, the session was spoken by {status.get('engine')!r}")
        return status

    def stop(self) -> None:
        stop_dev_stack(self.stack)
        self.log.unlink()


class PeakMemory:
    """The stack's highest memory (``LocalStack.memory_mb``) while the ``with`` block runs."""

    def __init__(self, stack: LocalStack):
        self.stack, self.peak, self._stop = stack, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.stack.memory_mb())
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
