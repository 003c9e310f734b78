"""hibari: a neural English voice (a distillation of Kokoro-82M, int8 ONNX) that runs offline on one core.

The package (``hibari-tts``, in the neural layer) carries one voice, "heart"; its other voices are
files it would download from a model hub on first use. This engine never lets it: it offers only the
voices whose model file is on disk (inside the package, or copied into ``HIBARI_HOME``) and matches
the checksum pinned here, and hands hibari the file's path itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...observability import logger
from .base import Mark, Speech, TtsEngine, TtsError, package_version

if TYPE_CHECKING:
    from numpy import ndarray

VERSION = "0.2.1"  # the hibari-tts release these voices and checksums belong to


@dataclass(frozen=True)
class Voice:
    file: str
    sha256: str
    lang: str  # en-us or en-gb: the accent, which also picks hibari's spelling-to-sound rules
    bundled: bool = False


# hibari 0.2.1's voices (its assets/voices.json), with the checksums pinned here.
VOICES = {
    "heart": Voice("hibari.onnx", "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8", "en-us", True),
    "kore": Voice("af_kore.int8.onnx", "346885752673e45d42f9864c9e2432094bc4b6385df060d4b83273da764d2fa9", "en-us"),
    "fenrir": Voice(
        "am_fenrir_v2.int8.onnx", "f59fbd87908c91f827bc21b1b89443757b9a8580db9eee20aa948deb731321f4", "en-us"
    ),
    "emma": Voice("bf_emma.int8.onnx", "f709f0488ee63b583a22189a955aaf4257b9806dd330be3490661e53af0a89c1", "en-gb"),
    "fable": Voice("bm_fable.int8.onnx", "c28529302f2d27cd12f62625c24425888c4e3c2675583100ec530259136b8bc6", "en-gb"),
}
LANGUAGE_NAMES = {"en-us": "English (America)", "en-gb": "English (Great Britain)"}
# Every sentence comes with about 0.3 s of near-silence before its first word and 0.5 s after its
# last: the first of those is pure delay before the stream's first word, and the two together make a
# pause between sentences longer than a speaker's. Cut to these, below -40 dBFS:
LEAD_SECONDS, TAIL_SECONDS, SILENCE_LEVEL = 0.05, 0.30, 0.01


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("hibari")
    return Path(spec.origin).parent if spec and spec.origin else None


def _voice_path(voice: Voice) -> Path | None:
    """Where the voice's model file is, if it is on disk (never fetched)."""
    package = _package_dir()
    if package is None:
        return None
    if voice.bundled:
        path = package / "assets" / voice.file
    else:
        home = os.environ.get("HIBARI_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hibari"
        )
        path = Path(home) / voice.file
    return path if path.is_file() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _matches(path: Path, size: int, modified_ns: int, sha256: str) -> bool:
    """Whether the file hashes to ``sha256`` (once per file version: hashing the model takes a while)."""
    return _sha256(path) == sha256


def _verified_path(name: str) -> Path | None:
    """The voice's model file, if it is on disk and is the published file."""
    voice, path = VOICES[name], _voice_path(VOICES[name])
    if path is None:
        return None
    stat = path.stat()
    if not _matches(path, stat.st_size, stat.st_mtime_ns, voice.sha256):
        logger.error("hibari model checksum mismatch: not offered", extra={"voice": name, "path": str(path)})
        return None
    return path


@cache
def _model(name: str) -> Any:  # a hibari.Hibari (hibari has no type information)
    """The loaded, warmed model of a voice: one per process, shared by every session (onnxruntime's
    ``run`` may be called from several threads at once)."""
    path = _verified_path(name)
    if path is None:
        raise TtsError(f"the neural voice {name!r} is not installed here")
    try:
        from hibari import Hibari
        from hibari.g2p import G2P

        model = Hibari(voice=name, model=str(path), threads=1, g2p=G2P(british=VOICES[name].lang == "en-gb"))
        # The first run of an onnxruntime session is slow, and a word no lexicon knows loads the word net.
        model("Warm up, audiostream.")
    except Exception as error:
        logger.exception("hibari could not load its model")
        raise TtsError("the neural voice could not be loaded") from error
    return model


_loading = threading.Lock()


def _loaded(name: str) -> Any:
    with _loading:  # two sessions starting at once load the model once
        return _model(name)


def _trimmed(wave: ndarray) -> bytes:
    """One sentence's float samples as 16-bit PCM, its leading and trailing near-silence cut short."""
    import numpy as np

    loud = np.flatnonzero(np.abs(wave) > SILENCE_LEVEL)
    if loud.size:
        rate = HibariEngine.sample_rate
        wave = wave[max(0, loud[0] - int(LEAD_SECONDS * rate)) : loud[-1] + int(TAIL_SECONDS * rate)]
    pcm: bytes = (np.clip(wave, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()  # numpy's Any, typed
    return pcm


class HibariEngine(TtsEngine):
    name = "hibari"
    sample_rate = 24000

    def installed_voices(self) -> dict[str, Voice]:
        """The voices whose published model file is on disk: only those are offered."""
        voices = {name: voice for name, voice in VOICES.items() if _verified_path(name) is not None}
        if not voices:
            raise TtsError("the neural voice (hibari-tts) is not installed here")
        return voices

    def languages(self) -> dict[str, str]:
        accents = {voice.lang for voice in self.installed_voices().values()}
        names = {code: LANGUAGE_NAMES[code] for code in accents}
        names["en"] = "English"
        return names

    def voices(self) -> frozenset[str]:
        return frozenset(self.installed_voices())

    def default_voice(self, lang: str) -> str:
        voices = self.installed_voices()
        accent = lang if lang in LANGUAGE_NAMES else "en-us"
        same_accent = [name for name, voice in voices.items() if voice.lang == accent]
        return (same_accent or list(voices))[0]

    def warm(self) -> None:
        _loaded(self.default_voice("en"))

    def version(self) -> str:
        version = package_version("hibari-tts")
        if version is None:
            raise TtsError("the neural voice (hibari-tts) is not installed here")
        return f"hibari-tts {version}"

    def stream(self, text: str, lang: str, voice: str | None) -> Iterator[Speech]:
        """One piece per sentence, as hibari splits them (a sentence too long for one model run is
        made in several, which are joined: the piece is still that sentence's)."""
        import numpy as np

        model = _loaded(voice or self.default_voice(lang))
        try:
            # A fixed seed for the noise part of the voice: the same words always make the same audio.
            noise = np.random.default_rng(0)
            for sentence in model.split_sentences(text):
                waves = [model.from_ids(model.ids(phonemes), 1.0, noise) for phonemes in model.phonemize(sentence)]
                if waves:
                    yield Speech(b"".join(_trimmed(wave) for wave in waves), sentences=(Mark(0, sentence.strip()),))
        except Exception as error:
            logger.exception("hibari failed")
            raise TtsError("the neural voice failed on this text") from error

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        return b"".join(speech.pcm for speech in self.stream(text, lang, voice))
