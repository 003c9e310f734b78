"""Run tests many times while every core is busy, so that a test that depends on timing shows it.

    .venv/bin/python scripts/stress.py [--runs 100] [--minutes 60] NODE_ID [NODE_ID ...]

Each node id (a test function: all its parameters run) is repeated ``--runs`` times in one pytest
process, as distinct tests with fresh fixtures (what pytest-repeat does, by a parameter), while one
spinning process per core competes with it for the CPU. Everything ends by ``--minutes``, burners
included. Prints "N passed, M failed" per node id and in all, and the first line of each failure; the
whole pytest output goes to a log file whose path is printed. The exit status is 0 only if every run
ran and passed.

The same file is the pytest plugin that repeats the tests and records their outcomes (``-p stress``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS_VARIABLE = "STRESS_RUNS"
REPORT_VARIABLE = "STRESS_REPORT"


# ------------------------------------------------------------------ the pytest plugin


def pytest_generate_tests(metafunc) -> None:
    runs = int(os.environ.get(RUNS_VARIABLE, "0"))
    if runs:
        metafunc.fixturenames.append("stress_run")
        metafunc.parametrize("stress_run", range(runs), ids=lambda run: f"run{run}")


def pytest_runtest_logreport(report) -> None:
    if report.when != "call" and not report.failed:
        return
    line = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome}
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = (crash.message if crash else str(report.longrepr)).strip()
        line["first_line"] = text.splitlines()[0] if text else "(no message)"
    with open(os.environ[REPORT_VARIABLE], "a") as report_file:
        report_file.write(json.dumps(line) + "\n")


# ------------------------------------------------------------------ the CPU burner


def _spin(until: float) -> None:
    while time.monotonic() < until:
        for _ in range(100_000):
            pass


def start_burners(count: int, until: float) -> list[multiprocessing.Process]:
    """``count`` processes spinning until ``until`` (time.monotonic()), even if nobody stops them."""
    burners = [multiprocessing.Process(target=_spin, args=(until,), daemon=True) for _ in range(count)]
    for burner in burners:
        burner.start()
    return burners


def stop_burners(burners: list[multiprocessing.Process]) -> None:
    for burner in burners:
        burner.terminate()
    for burner in burners:
        burner.join()


# ------------------------------------------------------------------ the runs


def outcomes(report: Path) -> dict[str, dict]:
    """Per repeated test: whether it passed, and the first line of each of its failures."""
    tests: dict[str, dict] = {}
    for line in report.read_text().splitlines() if report.exists() else []:
        record = json.loads(line)
        test = tests.setdefault(record["nodeid"], {"passed": False, "failures": []})
        if record["outcome"] == "failed":
            test["failures"].append(f"{record['when']}: {record['first_line']}")
        elif record["when"] == "call" and record["outcome"] == "passed":
            test["passed"] = True
    return tests


def stress(node_id: str, runs: int, until: float, log: Path) -> tuple[int, int, list[str]]:
    """Run ``node_id`` ``runs`` times; answers (passed, failed, the failures' first lines)."""
    report = log.with_suffix(".jsonl")
    report.unlink(missing_ok=True)
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, RUNS_VARIABLE: str(runs), REPORT_VARIABLE: str(report)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "stress", "-p", "no:cacheprovider", node_id]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            process.wait(timeout=max(0.0, until - time.monotonic()))
            ended = None
        except subprocess.TimeoutExpired:
            ended = "the time limit was reached"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    tests = outcomes(report)
    passed = sum(1 for test in tests.values() if test["passed"] and not test["failures"])
    failures = [f"{nodeid}: {line}" for nodeid, test in tests.items() for line in test["failures"]]
    failed = sum(1 for test in tests.values() if test["failures"])
    if ended or passed + failed < runs:
        failures.append(f"{node_id}: {runs - passed - failed} of {runs} runs did not finish ({ended or 'see the log'})")
        failed = runs - passed
    return passed, failed, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("node_ids", nargs="+", metavar="NODE_ID")
    parser.add_argument("--runs", type=int, default=100, help="runs of each node id (default 100)")
    parser.add_argument("--minutes", type=float, default=60, help="time limit for everything (default 60)")
    parser.add_argument("--burners", type=int, default=os.cpu_count() or 1, help="spinning processes (one per core)")
    args = parser.parse_args()

    until = time.monotonic() + args.minutes * 60
    logs = Path(tempfile.mkdtemp(prefix="stress-"))
    burners = start_burners(args.burners, until)
    total_passed = total_failed = 0
    try:
        for number, node_id in enumerate(args.node_ids):
            began = time.monotonic()
            log = logs / f"{number:02d}.log"
            passed, failed, failures = stress(node_id, args.runs, until, log)
            total_passed, total_failed = total_passed + passed, total_failed + failed
            print(f"{node_id}: {passed} passed, {failed} failed in {time.monotonic() - began:.0f} s (log: {log})")
            for failure in failures:
                print(f"  {failure}")
            sys.stdout.flush()
    finally:
        stop_burners(burners)
    print(f"{total_passed} passed, {total_failed} failed ({args.burners} burners, {args.runs} runs per node id)")
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
