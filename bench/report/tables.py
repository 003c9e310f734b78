"""The tables `make bench` prints: a row per figure and engine with its goal and verdict, click to
first sound step by step, the price of 1,000 minutes, how it grows with the work; and a summary."""

from __future__ import annotations

from browser import OWNERS, STEPS
from goals import GOALS


def verdict_of(met: dict, *names: str) -> bool | None:
    """The verdict of the first of ``names`` that has a goal for this engine."""
    for name in names:
        if name in met:
            return met[name]["met"]
    return None


def goal(engine: str, name: str, unit: str = "", prefix: str = "") -> str:
    value, lower = GOALS[engine][name]
    return f"{prefix}{'<=' if lower else '>'} {value:g}{unit}"


def table(results: dict) -> str:
    """A row per figure and engine; the verdict against that engine's goal where it has one."""
    rows = []
    for number, engine in enumerate(results["engines"]):
        section = results[engine]
        start, apart = section["start_answer"], section["start_answer"]["back_to_back"]
        first, throughput, limit = section["first_segment"], section["throughput"], section["limit"]
        memory, concurrent, met = section["memory"], section["concurrency"], section["targets"]
        browser = section["browser"]
        puts = {label: section["costs"][label]["per_minute"]["s3_puts_by_generate"] for label in ("long", "short")}
        many = concurrent["sessions"]
        figures = [
            (
                "start answer p50 / p95",
                f"{start['p50_ms']:.1f} / {start['p95_ms']:.1f} ms; "
                f"{start['vs_trivial_get']:.1f}x a trivial GET ({start['trivial_get']['p50_ms']:.1f} ms)",
                goal(engine, "start_answer_vs_trivial_get", "x the GET"),
                verdict_of(met, "start_answer_vs_trivial_get"),
            ),
            ("  ...back to back", f"{apart['p50_ms']:.1f} / {apart['p95_ms']:.1f} ms", "", None),
            (
                "first segment listed p50 / p95",
                f"{first['p50_ms']:.0f} / {first['p95_ms']:.0f} ms; {first['vs_raw_limit']:.2f}x the raw limit "
                f"({results['raw_limit']['p50_ms']:.0f} ms)",
                goal(engine, "first_segment_vs_raw_limit", "x the limit")
                if "first_segment_vs_raw_limit" in GOALS[engine]
                else goal(engine, "first_segment_p50_ms", " ms", "p50 "),
                verdict_of(met, "first_segment_vs_raw_limit", "first_segment_p50_ms"),
            ),
            (
                "click to first playing, chromium p50 / p95",
                f"{browser['playing']['p50_ms']:.0f} / {browser['playing']['p95_ms']:.0f} ms "
                f"({browser['clicks']} clicks); limit + {browser['minus_raw_limit_ms']:.0f} ms",
                goal(engine, "click_to_playing_minus_raw_limit_ms", " ms over the limit")
                if "click_to_playing_minus_raw_limit_ms" in GOALS[engine]
                else "",
                verdict_of(met, "click_to_playing_minus_raw_limit_ms"),
            ),
            (
                "S3 PUTs by generate per audio minute",
                f"{puts['long']:.1f} (5-minute text), {puts['short']:.1f} (1-minute text)",
                goal(engine, "s3_puts_by_generate_per_audio_minute", " (5-minute text)"),
                verdict_of(met, "s3_puts_by_generate_per_audio_minute"),
            ),
            (
                "  ...without captions (in turn)",
                f"{first['without_captions']['p50_ms']:.0f} / {first['without_captions']['p95_ms']:.0f} ms; "
                f"with / without = {first['captions_ratio']:.2f}x",
                goal(engine, "first_segment_with_vs_without_captions", "x"),
                verdict_of(met, "first_segment_with_vs_without_captions"),
            ),
            (
                "start to playable, content-cache hit p50 / p95",
                f"{section['cache_hit']['p50_ms']:.1f} / {section['cache_hit']['p95_ms']:.1f} ms "
                f"({first['p50_ms'] / section['cache_hit']['p50_ms']:.0f}x faster than a miss)",
                "",
                None,
            ),
            (
                "audio s per wall s",
                f"{throughput['audio_per_wall']:.1f} ({throughput['audio_s']:.0f} s in {throughput['wall_s']:.2f} s)",
                goal(engine, "audio_seconds_per_wall_second"),
                verdict_of(met, "audio_seconds_per_wall_second"),
            ),
            (
                "engine alone (the plain pipeline)",
                f"{limit['plain']}: {limit['plain_wall_s']:.2f} s; ours / alone = {limit['ratio']:.2f}x",
                goal(engine, "wall_time_vs_plain_cli", "x"),
                verdict_of(met, "wall_time_vs_plain_cli"),
            ),
            (
                "  ...ours without captions (in turn)",
                f"{limit['without_captions_wall_s']:.2f} s; without / alone = {limit['without_captions_ratio']:.2f}x",
                "",
                None,
            ),
            (
                f"memory (PSS) at rest / 1 / {many} sessions",
                f"{memory['at_rest_mb']:.0f} / {memory['one_session_peak_mb']:.0f} / "
                f"{memory[f'{many}_sessions_peak_mb']:.0f} MB",
                "",
                None,
            ),
            (
                "memory per extra session",
                f"{memory['per_extra_session_mb']:.1f} MB",
                goal(engine, "memory_per_extra_session_mb", " MB"),
                verdict_of(met, "memory_per_extra_session_mb"),
            ),
            (
                f"{many} sessions at once",
                f"{concurrent['succeeded']} succeeded; first segment p50 / p95 "
                f"{concurrent['first_segment_p50_ms']:.0f} / {concurrent['first_segment_p95_ms']:.0f} ms",
                "all succeed",
                concurrent["succeeded"] == many,
            ),
        ]
        for index, (name, value, wanted, verdict) in enumerate(figures):
            rows.append((index, number, name, engine, value, wanted, {True: "met", False: "MISSED", None: ""}[verdict]))
    rows.sort(key=lambda row: row[:2])  # each figure, then each engine's row of it
    header = ("figure", "engine", "measured", "goal", "")
    cells = [header] + [(name if number == 0 else "", *rest) for _, number, name, *rest in rows]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def aligned(cells: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def breakdown_table(results: dict) -> str:
    """Click to first sound, step by step (medians of the clicks), each step's share and owner."""
    engines = results["engines"]
    cells = [("step (done at, ms after the click)", *engines, "whose time")]
    for name in STEPS:
        row = [name]
        for engine in engines:
            steps = results[engine]["browser"]["steps_p50_ms"]
            row.append(f"{steps[name]:.0f}" if name in steps else "")
        cells.append((*row, OWNERS[name]))
    cells.append(("the raw limit (espeak-ng | ffmpeg)", f"{results['raw_limit']['p50_ms']:.0f}", *[""] * len(engines)))
    waits = [results[engine]["browser"]["status_poll_wait"] for engine in engines]
    cells.append(
        (
            "the page's wait to poll again, until a segment / after",
            *[f"{wait['until_a_segment']['p50_ms']:.0f} / {wait['after_a_segment']['p50_ms']:.0f}" for wait in waits],
            "the page (the costs below poll as it does)",
        )
    )
    return aligned(cells)


def cost_table(results: dict) -> str:
    """Dollars for 1,000 minutes of audio, by item, per engine and text, x86_64 (arm64's total too)."""
    columns = [(engine, label) for engine in results["engines"] for label in ("long", "short")]
    first = results[columns[0][0]]["costs"]["long"]["dollars_per_1000_minutes"]["x86_64"]
    cells = [("$ per 1,000 minutes", *[f"{engine} {label}" for engine, label in columns])]
    for item in first:
        cells.append(
            (
                item,
                *[
                    f"{results[engine]['costs'][label]['dollars_per_1000_minutes']['x86_64'][item]:.4f}"
                    for engine, label in columns
                ],
            )
        )
    cells.append(
        (
            "total on arm64",
            *[
                f"{results[engine]['costs'][label]['dollars_per_1000_minutes']['arm64']['total']:.4f}"
                for engine, label in columns
            ],
        )
    )
    for name in results[columns[0][0]]["costs"]["long"]["hosted_per_1000_minutes"]:
        cells.append(
            (
                name,
                *[
                    f"{results[engine]['costs'][label]['hosted_per_1000_minutes'][name]:.2f}"
                    for engine, label in columns
                ],
            )
        )
    for figure, unit in (("s3_puts", ""), ("dynamodb_writes", ""), ("status_requests", ""), ("cpu_s", " s")):
        cells.append(
            (
                f"{figure} per minute",
                *[f"{results[engine]['costs'][label]['per_minute'][figure]:.2f}{unit}" for engine, label in columns],
            )
        )
    return aligned(cells)


def scaling_table(results: dict) -> str:
    cells = [("work", *results["engines"])]
    first = results[results["engines"][0]]["scaling"]
    for chars in first["by_text"]:
        cells.append(
            (
                f"text of {chars} chars: first segment / total / memory",
                *[
                    "{first_segment_ms:.0f} ms / {total_s:.2f} s / {memory_mb:.0f} MB".format(
                        **results[engine]["scaling"]["by_text"][chars]
                    )
                    for engine in results["engines"]
                ],
            )
        )
    for count in first["by_sessions"]:
        cells.append(
            (
                f"{count} sessions at once (1,000 chars): first segment p50 / all done / memory",
                *[
                    "{first_segment_p50_ms:.0f} ms / {all_done_s:.2f} s / {memory_mb:.0f} MB".format(
                        **results[engine]["scaling"]["by_sessions"][count]
                    )
                    for engine in results["engines"]
                ],
            )
        )
    return aligned(cells)


def summary(results: dict) -> str:
    lines = []
    for engine in results["engines"]:
        targets = results[engine]["targets"]
        missed = [name for name, verdict in targets.items() if not verdict["met"]]
        lines.append(
            f"{engine}: {len(targets) - len(missed)} of {len(targets)} goals met"
            + (f"; missed: {', '.join(missed)}" if missed else "")
        )
    return "\n".join(lines)
