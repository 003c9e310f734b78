"""The goals of the README's Performance section, per engine, and each figure's verdict against them."""

from __future__ import annotations

# (figure: goal, True when lower is better, at most). Machines differ in speed from day to day (README,
# Performance), so where a limit is measured in the same run the goal is a ratio to it: a trivial GET
# of the same stack, and the raw limit of the first sound (one espeak-ng piped into one ffmpeg, see
# measurements/raw_limit.py). "plain CLI" is the engine run alone on the same text (see
# measurements/engine_alone.py). espeak-ng's:
TARGETS = {
    "start_answer_vs_trivial_get": (4, True),
    "first_segment_vs_raw_limit": (1.2, True),
    "click_to_playing_minus_raw_limit_ms": (100, True),
    "audio_seconds_per_wall_second": (30, False),
    "memory_per_extra_session_mb": (30, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
    "s3_puts_by_generate_per_audio_minute": (20, True),
}
# hibari's (the neural voice's issue); the start answer's and the S3 goals are the engine-neutral ones.
HIBARI_TARGETS = {
    "start_answer_vs_trivial_get": (4, True),
    "first_segment_p50_ms": (400, True),
    "audio_seconds_per_wall_second": (20, False),
    "memory_per_extra_session_mb": (150, True),
    "wall_time_vs_plain_cli": (1.3, True),
    "first_segment_with_vs_without_captions": (1.1, True),
    "s3_puts_by_generate_per_audio_minute": (20, True),
}
GOALS = {"espeak": TARGETS, "hibari": HIBARI_TARGETS}


def verdicts(section: dict, engine: str) -> dict:
    figures = {
        "start_answer_vs_trivial_get": section["start_answer"]["vs_trivial_get"],
        "first_segment_p50_ms": section["first_segment"]["p50_ms"],
        "first_segment_vs_raw_limit": section["first_segment"].get("vs_raw_limit"),
        "click_to_playing_minus_raw_limit_ms": (section.get("browser") or {}).get("minus_raw_limit_ms"),
        "audio_seconds_per_wall_second": section["throughput"]["audio_per_wall"],
        "memory_per_extra_session_mb": section["memory"]["per_extra_session_mb"],
        "wall_time_vs_plain_cli": section["limit"]["ratio"],
        "first_segment_with_vs_without_captions": section["first_segment"]["captions_ratio"],
        "s3_puts_by_generate_per_audio_minute": section["costs"]["long"]["per_minute"]["s3_puts_by_generate"],
    }
    goals = GOALS[engine]
    return {
        name: {"value": value, "goal": goal, "met": value <= goal if lower else value > goal}
        for name, value in figures.items()
        if name in goals and value is not None
        for goal, lower in [goals[name]]
    }
