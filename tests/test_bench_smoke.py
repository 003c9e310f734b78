"""The benchmark's short version, so that `make bench` cannot rot (its figures mean nothing here)."""

import json
import subprocess
import sys

import pytest

from support.paths import REPO

pytestmark = pytest.mark.stack

ENGINES = ["espeak", "hibari"]
SHARED = {
    "start_answer_vs_trivial_get",
    "audio_seconds_per_wall_second",
    "memory_per_extra_session_mb",
    "wall_time_vs_plain_cli",
    "first_segment_with_vs_without_captions",
    "s3_puts_by_generate_per_audio_minute",
}
FIGURES = {
    "espeak": SHARED | {"first_segment_vs_raw_limit", "click_to_playing_minus_raw_limit_ms"},
    "hibari": SHARED | {"first_segment_p50_ms"},
}


def test_the_benchmark_runs_and_reports_every_figure_for_each_engine(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--smoke", "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["mode"] == "smoke"
    assert report["engines"] == ENGINES
    for engine in ENGINES:
        section = report[engine]
        assert section["start_answer"]["p50_ms"] > 0 and section["start_answer"]["back_to_back"]["p95_ms"] > 0
        assert 0 < section["first_segment"]["p50_ms"] <= section["first_segment"]["p95_ms"]
        assert 0 < section["cache_hit"]["p50_ms"] < section["first_segment"]["p50_ms"]
        plain = section["first_segment"]["without_captions"]
        assert section["first_segment"]["captions_ratio"] == section["first_segment"]["p50_ms"] / plain["p50_ms"]
        assert section["throughput"]["audio_s"] > 10 and section["throughput"]["audio_per_wall"] > 1
        assert section["limit"]["plain_wall_s"] > 0 and section["limit"]["ratio"] > 0
        assert section["memory"]["at_rest_mb"] > 0 and section["memory"]["one_session_peak_mb"] > 0
        assert section["concurrency"]["succeeded"] == section["concurrency"]["sessions"] == 2
        timeline = section["timeline"]
        assert timeline["listed_at_s"] == sorted(timeline["listed_at_s"])
        assert len(timeline["listed_at_s"]) == len(timeline["durations_s"]) >= 3
        assert set(section["targets"]) == FIGURES[engine]
        assert (
            section["first_segment"]["vs_raw_limit"]
            == section["first_segment"]["p50_ms"] / report["raw_limit"]["p50_ms"]
        )
        # The click's steps happen in order, and the browser's first sound is after the first segment.
        steps = section["browser"]["steps_p50_ms"]
        assert steps["startAnswered"] <= steps["firstSegmentListed"] <= steps["audioPlaylistLoaded"] <= steps["playing"]
        # The page's waits between status polls, as chromium saw them: the counted session polls so.
        waits = section["browser"]["status_poll_wait"]
        assert 0 < waits["until_a_segment"]["p50_ms"] < waits["after_a_segment"]["p50_ms"]
        # Every request counted: generate wrote the segments, their captions and the closing playlists.
        counted = section["costs"]["long"]
        requests = counted["storage_requests"]
        assert requests["s3 PUT .m4s"] == requests["s3 PUT .vtt"] >= 2 and requests["s3 PUT .mp4"] == 1
        assert requests["dynamodb PutItem"] >= 1 and requests["dynamodb GetItem"] >= 1
        dollars = counted["dollars_per_1000_minutes"]
        assert 0 < dollars["arm64"]["total"] < dollars["x86_64"]["total"]
        assert dollars["x86_64"]["s3_puts"] == pytest.approx(counted["per_minute"]["s3_puts"] * 1000 * 0.005 / 1000)
        assert set(section["scaling"]["by_text"]) == {"100", "1000"}
        assert all(run["succeeded"] == int(count) for count, run in section["scaling"]["by_sessions"].items())
    # Each engine is held to its own goals.
    assert report["espeak"]["targets"]["memory_per_extra_session_mb"]["goal"] == 30
    assert report["hibari"]["targets"]["memory_per_extra_session_mb"]["goal"] == 150
    assert report["espeak"]["limit"]["plain"].startswith("espeak-ng")
    assert report["hibari"]["limit"]["plain"].startswith("hibari")
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "first segment listed" in result.stdout and "raw limit" in result.stdout
    assert "Click to first sound, step by step" in result.stdout and "What 1,000 minutes" in result.stdout
    assert "espeak: " in result.stdout and "hibari: " in result.stdout
