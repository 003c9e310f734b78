"""bench/results/latest.png: click to first sound step by step, then one timeline per engine."""

from __future__ import annotations

from pathlib import Path

from browser import STEPS
from goals import TARGETS


def draw_breakdown(axes, breakdowns: dict[str, dict], raw_limit_ms: float) -> None:
    """Click to first sound, one bar per engine: each step from the one before it (medians)."""
    colours = ["#6d6875", "#2454c7", "#9aa9d9", "#e0a458", "#c97b2a", "#f2d16b", "#7fb069", "#4f8a3c", "#b3261e"]
    for row, steps in enumerate(breakdowns.values()):
        previous = 0.0
        for index, name in enumerate(STEPS):
            if name not in steps:
                continue
            width = max(0.0, steps[name] - previous)
            colour = colours[index % len(colours)]
            axes.barh(row, width, left=previous, color=colour, edgecolor="white")
            if width >= 25:
                axes.text(previous + width / 2, row, f"{width:.0f}", ha="center", va="center", fontsize=7)
            previous = max(previous, steps[name])
    axes.axvline(raw_limit_ms, color="black", linestyle="--", linewidth=1)
    over, _ = TARGETS["click_to_playing_minus_raw_limit_ms"]  # espeak-ng's goal
    axes.axvline(raw_limit_ms + over, color="black", linestyle=":", linewidth=1)
    axes.set_yticks(range(len(breakdowns)), list(breakdowns))
    axes.set_ylim(-0.5, len(breakdowns) + 0.6)  # room for the legend above the bars
    axes.set_xlabel(f"ms after the click (medians); dashed: the raw limit, dotted: limit + {over:g} ms (the goal)")
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[index % len(colours)], label=f"until {name}") for index, name in enumerate(STEPS)]
    axes.legend(handles=handles, fontsize=7, loc="upper right", ncol=3)
    axes.set_title("Click to first sound in headless chromium, step by step")


def draw_timelines(
    timelines: dict[str, dict], path: Path, breakdowns: dict[str, dict] | None = None, raw_limit_ms: float = 0.0
) -> None:
    """A panel of the click-to-sound breakdown, then one per engine: when each segment was listed,
    and when a listener would need it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(timelines) + (1 if breakdowns else 0)
    figure, panels = plt.subplots(rows, 1, figsize=(9, 4.2 * rows), dpi=110, squeeze=False)
    if breakdowns:
        draw_breakdown(panels[0, 0], breakdowns, raw_limit_ms)
    for axes, (engine, timeline) in zip(panels[rows - len(timelines) :, 0], timelines.items(), strict=True):
        listed = timeline["listed_at_s"]
        needed, elapsed = [], listed[0]  # a listener who starts when the first segment is listed
        for duration in timeline["durations_s"]:
            needed.append(elapsed)
            elapsed += duration
        numbers = [at - listed[0] for at in needed]  # where each segment starts in the stream
        axes.plot(numbers, needed, label="needed by a listener who starts at once", color="#b3261e", linewidth=2)
        axes.plot(numbers, listed, label="listed in the playlist (available)", color="#2454c7", linewidth=2)
        axes.fill_between(numbers, listed, needed, color="#2454c7", alpha=0.08)
        axes.set_xlabel(
            f"seconds into the stream (each segment's start: the first {timeline['durations_s'][0]:.0f} s alone, "
            f"then up to {timeline['target_duration_s']} s)"
        )
        axes.set_ylabel("seconds after the start request")
        ahead = all(at <= need + 1e-9 for at, need in zip(listed, needed, strict=True))
        axes.set_title(
            f"{engine}: one session, {timeline['audio_s']:.0f} s of speech, made in {timeline['wall_s']:.1f} s; "
            + ("the stream stays ahead of the listener" if ahead else "the listener waits at times")
        )
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
