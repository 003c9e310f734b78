"""espeak-ng wrapped to note what generate asks of it: the texts, the audio returned, and how much CPU
the calling thread had used before the first request."""

from __future__ import annotations

import time
from collections.abc import Callable

from audiostream.speech.engines import TtsEngine, TtsError, get_engine


class EspeakBacked(TtsEngine):
    """A test engine that speaks through espeak-ng (``self.inner``), with its languages and voices."""

    def __init__(self, settings, name: str):
        self.inner = get_engine("espeak", settings)
        self.name, self.sample_rate = name, self.inner.sample_rate

    def languages(self):
        return self.inner.languages()

    def voices(self):
        return self.inner.voices()


class RecordingEngine(EspeakBacked):
    def __init__(self, settings, name: str = "recording", before_first: Callable[[], None] | None = None):
        super().__init__(settings, name)
        self.before_first = before_first
        self.texts: list[str] = []
        self.samples = 0
        self.thread_cpu_at_first_request: float | None = None
        self.stop_after: int | None = None  # refuse any request after this many, ending the session

    @property
    def seconds_returned(self) -> float:
        return self.samples / self.sample_rate

    def synthesize(self, text, lang, voice):
        if not self.texts:
            self.thread_cpu_at_first_request = time.thread_time()
            if self.before_first is not None:
                self.before_first()
        self.texts.append(text)
        if self.stop_after is not None and len(self.texts) > self.stop_after:
            raise TtsError("stopped by the test")
        pcm = self.inner.synthesize(text, lang, voice)
        self.samples += len(pcm) // 2
        return pcm
