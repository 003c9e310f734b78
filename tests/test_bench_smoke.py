"""The benchmark's ten-second version, so that `make bench` cannot rot (its figures mean nothing here)."""

import json
import subprocess
import sys

import pytest

from support.paths import REPO

pytestmark = pytest.mark.stack


def test_the_benchmark_runs_and_reports_every_figure(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["mode"] == "smoke"
    assert report["start_answer"]["p50_ms"] > 0 and report["start_answer"]["back_to_back"]["p95_ms"] > 0
    assert 0 < report["first_segment"]["p50_ms"] <= report["first_segment"]["p95_ms"]
    assert report["throughput"]["audio_s"] > 40 and report["throughput"]["audio_per_wall"] > 1
    assert report["limit"]["plain_cli_wall_s"] > 0 and report["limit"]["ratio"] > 0
    assert report["memory"]["at_rest_mb"] > 0 and report["memory"]["one_session_peak_mb"] > 0
    assert report["concurrency"]["succeeded"] == report["concurrency"]["sessions"] == 2
    timeline = report["timeline"]
    assert timeline["listed_at_s"] == sorted(timeline["listed_at_s"])
    assert len(timeline["listed_at_s"]) == len(timeline["durations_s"]) > 10
    assert set(report["targets"]) == {
        "start_answer_p50_ms",
        "first_segment_p50_ms",
        "audio_seconds_per_wall_second",
        "memory_per_extra_session_mb",
        "wall_time_vs_plain_cli",
    }
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "first segment listed" in result.stdout
