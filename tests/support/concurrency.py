"""Racing attempts against each other, as concurrent clients of one service do."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(count: int, attempt: Callable[[int], object]) -> list:
    """``attempt(i)`` in ``count`` threads released together; answers what each returned or raised, by i."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = attempt(i)
        except Exception as error:  # a refused attempt is an outcome here; so is any other error
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def join_thread_named(name: str, timeout: float = 30) -> None:
    """Until the thread of that name (if one runs) has ended."""
    for thread in threading.enumerate():
        if thread.name == name:
            thread.join(timeout=timeout)
