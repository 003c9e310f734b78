"""Amazon Polly through boto3's SynthesizeSpeech: raw 16-bit PCM at 16 kHz, no decoding needed; with
speech marks on, a second request per piece says where its sentences and words begin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import TypedDict

from botocore.exceptions import BotoCoreError, ClientError

from ... import aws
from ...observability import logger
from ..chunking import SentenceChunker, pack_chunks
from .base import Mark, Speech, TtsEngine, TtsError

# Polly refuses a request of more than 3,000 billed characters; stay below it with a margin.
MAX_REQUEST_CHARS = 2900


class _Voice(TypedDict):
    """What is read here of a voice that DescribeVoices lists (it says more: Gender, Name, ...)."""

    Id: str
    LanguageCode: str
    LanguageName: str


@lru_cache(maxsize=4)
def _voices(engine_type: str) -> tuple[_Voice, ...]:
    """Every voice that speaks with ``engine_type`` (standard, neural, ...), in a stable order."""
    polly = aws.client("polly")
    voices: list[_Voice] = []
    token = None
    while True:
        page = polly.describe_voices(Engine=engine_type, **({"NextToken": token} if token else {}))
        voices += page["Voices"]
        token = page.get("NextToken")
        if not token:
            break
    return tuple(sorted(voices, key=lambda voice: (voice["LanguageCode"], voice["Id"])))


def _main_countries(base: str) -> list[str]:
    return [f"{base}-{'us' if base == 'en' else base}"]


def request_pieces(text: str) -> list[str]:
    """``text`` in pieces Polly accepts, cut at sentence ends where possible."""
    if len(text) <= MAX_REQUEST_CHARS:
        return [text]
    chunker = SentenceChunker(MAX_REQUEST_CHARS, MAX_REQUEST_CHARS)
    return pack_chunks(chunker.feed(text) + chunker.finish(), MAX_REQUEST_CHARS, keep_first_short=False)


class PollyEngine(TtsEngine):
    name = "polly"
    sample_rate = 16000  # the highest rate Polly offers for PCM

    def __init__(self, engine_type: str = "standard", speech_marks: bool = False):
        self.engine_type = engine_type
        self.speech_marks = speech_marks

    def version(self) -> str:
        return f"polly {self.engine_type}"

    def _voice_list(self) -> tuple[_Voice, ...]:
        try:
            return _voices(self.engine_type)
        except (ClientError, BotoCoreError) as error:
            logger.warning("Polly's voices not listed", extra={"detail": str(error)})
            raise TtsError(f"Polly's voices could not be listed ({_code_of(error)})") from error

    def languages(self) -> dict[str, str]:
        """Polly's codes (en-gb, fr-ca, ...), and each bare language (en, fr) for its main country."""
        names = {voice["LanguageCode"].lower(): voice["LanguageName"] for voice in self._voice_list()}
        for code in list(names):
            base = code.split("-")[0]
            if base not in names:
                main = next((c for c in _main_countries(base) if c in names), code)
                names[base] = names[main]
        return names

    def voices(self) -> frozenset[str]:
        return frozenset(voice["Id"] for voice in self._voice_list())

    def default_voice(self, lang: str) -> str:
        """A voice for ``lang``: one of that exact language code, else of its main country
        (fr -> fr-FR, en -> en-US), else the first of the language."""
        voices = self._voice_list()
        base = lang.split("-")[0]
        for code in [lang, *_main_countries(base)]:
            for voice in voices:
                if voice["LanguageCode"].lower() == code:
                    return voice["Id"]
        for voice in voices:
            if voice["LanguageCode"].lower().split("-")[0] == base:
                return voice["Id"]
        raise TtsError(f"Polly has no {self.engine_type} voice for {lang!r}")

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        return b"".join(speech.pcm for speech in self.stream(text, lang, voice))

    def stream(self, text: str, lang: str, voice: str | None) -> Iterator[Speech]:
        """Each piece as soon as Polly has spoken it, with its speech marks when they are on."""
        voice_id = voice or self.default_voice(lang)
        for piece in request_pieces(text):
            pcm = self._request(piece, voice_id, OutputFormat="pcm", SampleRate=str(self.sample_rate))
            if not self.speech_marks:
                yield Speech(pcm)
                continue
            yield Speech(pcm, *self._marks(piece, voice_id))

    def _request(self, text: str, voice_id: str, **output: str | list[str]) -> bytes:
        try:
            answer = aws.client("polly").synthesize_speech(
                Text=text, VoiceId=voice_id, Engine=self.engine_type, **output
            )
            audio: bytes = answer["AudioStream"].read()
            return audio
        except (ClientError, BotoCoreError) as error:
            logger.warning("Polly failed", extra={"detail": str(error)})
            raise TtsError(f"Polly could not speak the text ({_code_of(error)})") from error

    def _marks(self, text: str, voice_id: str) -> tuple[tuple[Mark, ...], tuple[Mark, ...]]:
        """Polly's speech marks (a JSON object a line: ``time`` in milliseconds into the piece's audio,
        ``start``/``end`` in bytes of its UTF-8 text) as the piece's sentences and words. Without them
        (a refused or unreadable answer) the speech still plays: its captions are then shared out by
        characters, as without speech marks."""
        encoded = text.encode()
        placed: dict[str, list[Mark]] = {"sentence": [], "word": []}
        try:
            marks = self._request(text, voice_id, OutputFormat="json", SpeechMarkTypes=["sentence", "word"])
            for line in marks.decode().splitlines():
                if not line.strip():
                    continue
                mark = json.loads(line)
                if mark["type"] in placed:
                    words = encoded[mark["start"] : mark["end"]].decode(errors="replace")
                    placed[mark["type"]].append(Mark(int(mark["time"]) * self.sample_rate // 1000, words))
        except (TtsError, ValueError, KeyError, TypeError) as error:
            logger.warning("no speech marks for this piece: its captions are shared by characters", exc_info=error)
            return (), ()
        return tuple(placed["sentence"]), tuple(placed["word"])


def _code_of(error: ClientError | BotoCoreError) -> str:
    """AWS's error code (ThrottlingException, AccessDenied), never its message, which may name an ARN."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") or "an error"
    return "unreachable"
