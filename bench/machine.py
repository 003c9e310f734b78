"""The machine and the tools a bench run measured with."""

from __future__ import annotations

import os
import platform
import subprocess

import psutil


def machine() -> dict:
    import importlib.metadata

    try:
        hibari = importlib.metadata.version("hibari-tts")
    except importlib.metadata.PackageNotFoundError:
        hibari = None
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "cpu": platform.processor() or platform.machine(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0],
        "espeak_ng": subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip(),
        "hibari_tts": hibari,
        "load_average_at_start": list(os.getloadavg()),
    }
