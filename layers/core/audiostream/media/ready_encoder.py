"""An encoder already running when a session is claimed.

A new ffmpeg spends most of the time to the first segment starting up (loading its libraries, its
codecs' tables); one started earlier and waiting on its input writes its first part several times
sooner (the README's Performance section has the figures). So every session, once it has ended,
starts the ffmpeg of the next one. A warm Lambda instance keeps it, frozen with the instance between
invocations, and the next session on that instance writes into it at once; the first session of an
instance, or one of another recipe (another engine's sample rate), starts its own.

One encoder waits at a time, in its own working directory; it costs an idle process (a few MB, no
CPU) and is ended when the process exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from ..observability import logger
from .encoder import EncoderError, EncoderRecipe, HlsEncoder


class ReadyEncoder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: tuple[EncoderRecipe, HlsEncoder] | None = None

    def take(self, recipe: EncoderRecipe) -> HlsEncoder:
        """A started encoder of ``recipe`` in a working directory of its own, which the caller removes
        (``discard``) once done: the one waiting if it is of this recipe and still running, else a new one."""
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting_recipe, encoder = waiting
            if waiting_recipe == recipe and encoder.running():
                return encoder
            discard(encoder)
        return started(recipe)

    def prepare(self, recipe: EncoderRecipe) -> None:
        """Start the next session's encoder, unless one of ``recipe`` already waits. Never raises: a
        next session whose encoder cannot start finds out itself, and says so."""
        with self._lock:
            if self._waiting is not None and self._waiting[0] == recipe and self._waiting[1].running():
                return
        try:
            encoder = started(recipe)
        except (EncoderError, OSError):
            logger.warning("the next session's encoder could not be started", exc_info=True)
            return
        with self._lock:
            replaced, self._waiting = self._waiting, (recipe, encoder)
        if replaced is not None:
            discard(replaced[1])

    def close(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, None
        if waiting is not None:
            discard(waiting[1])


def started(recipe: EncoderRecipe) -> HlsEncoder:
    workdir = Path(tempfile.mkdtemp(prefix="audiostream-encoder-"))
    encoder = recipe.encoder(workdir)
    try:
        encoder.start()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return encoder


def discard(encoder: HlsEncoder) -> None:
    """End the encoder if it still runs and remove its working directory."""
    encoder.kill()
    shutil.rmtree(encoder.workdir, ignore_errors=True)


READY = ReadyEncoder()
atexit.register(READY.close)
