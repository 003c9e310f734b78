"""Amazon Polly through boto3's SynthesizeSpeech: raw 16-bit PCM at 16 kHz, no decoding needed."""

from __future__ import annotations

from functools import lru_cache

from botocore.exceptions import BotoCoreError, ClientError

from .. import aws
from ..chunking import SentenceChunker, pack_chunks
from ..observability import logger
from .base import TtsEngine, TtsError

# Polly refuses a request of more than 3,000 billed characters; stay below it with a margin.
MAX_REQUEST_CHARS = 2900


@lru_cache(maxsize=4)
def _voices(engine_type: str) -> tuple[dict, ...]:
    """Every voice that speaks with ``engine_type`` (standard, neural, ...), in a stable order."""
    polly = aws.client("polly")
    voices, token = [], None
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

    def __init__(self, engine_type: str = "standard"):
        self.engine_type = engine_type

    def _voice_list(self) -> tuple[dict, ...]:
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
        voice_id = voice or self.default_voice(lang)
        pcm = bytearray()
        for piece in request_pieces(text):
            try:
                answer = aws.client("polly").synthesize_speech(
                    Text=piece,
                    OutputFormat="pcm",
                    SampleRate=str(self.sample_rate),
                    VoiceId=voice_id,
                    Engine=self.engine_type,
                )
                pcm += answer["AudioStream"].read()
            except (ClientError, BotoCoreError) as error:
                logger.warning("Polly failed", extra={"detail": str(error)})
                raise TtsError(f"Polly could not speak the text ({_code_of(error)})") from error
        return bytes(pcm)


def _code_of(error: ClientError | BotoCoreError) -> str:
    """AWS's error code (ThrottlingException, AccessDenied), never its message, which may name an ARN."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") or "an error"
    return "unreachable"
