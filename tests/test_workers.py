"""The run's threads: started, stopped and joined by their owner, newest first; an error handed over
one way; one inside a call that hangs is left behind at once, named, and ends when the call returns."""

import threading

import pytest

from audiostream.workers import Crew, Worker


class Looking(Worker):
    """Looks at ``stopping`` until closed, noting the order in which it saw it."""

    def __init__(self, name: str, stopped: list[str]):
        super().__init__(name)
        self.stopped = stopped

    def work(self) -> None:
        self.stopping.wait()
        self.stopped.append(self.name)


class Calling(Worker):
    """Makes one foreign call that returns when ``release`` is set."""

    def __init__(self, release: threading.Event):
        super().__init__("calling")
        self.release, self.entered = release, threading.Event()
        self.calls = 0

    def work(self) -> None:
        while True:
            with self.foreign_call() as calling:
                if not calling:
                    return
                self.calls += 1
                self.entered.set()
                self.release.wait(timeout=30)


def test_a_crew_stops_and_joins_its_workers_newest_first():
    stopped: list[str] = []
    with Crew() as crew:
        for name in ("first", "second", "third"):
            crew.start(Looking(name, stopped))
    assert stopped == ["third", "second", "first"]
    assert [worker.alive for worker in crew.workers] == [False, False, False]
    assert crew.left_behind == []


def test_an_error_in_a_worker_is_raised_by_its_owner():
    class Failing(Worker):
        def work(self) -> None:
            raise ValueError("the engine broke")

    worker = Failing("failing")
    worker.start()
    assert worker.join(timeout=10)
    with pytest.raises(ValueError, match="the engine broke"):
        worker.raise_if_failed()


def test_a_worker_inside_a_call_that_hangs_is_left_behind_at_once_and_makes_no_further_call():
    release = threading.Event()
    crew = Crew()
    calling = crew.start(Calling(release))
    assert calling.entered.wait(timeout=10)
    crew.close()  # does not wait for the call
    assert crew.left_behind == ["calling"] and calling.alive
    release.set()
    assert calling.join(timeout=10), "it ends as soon as its call returns"
    assert calling.calls == 1


def test_a_closed_worker_enters_no_foreign_call():
    release = threading.Event()
    worker = Calling(release)
    worker.close()
    worker.start()
    assert worker.join(timeout=10) and worker.calls == 0
