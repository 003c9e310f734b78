"""Google Translate's TTS through the gTTS client: MP3 from the network, decoded to PCM by ffmpeg."""

from __future__ import annotations

import io
import subprocess
import time
from typing import Any

from gtts import gTTS
from gtts.lang import tts_langs
from gtts.tts import gTTSError

from ...observability import logger
from .base import TtsEngine, TtsError, package_version

# Google Translate domains gTTS can use for an accent (its ``tld``). A fixed list: the value becomes
# part of the host name gTTS connects to.
ACCENTS = frozenset(
    {"com", "co.uk", "com.au", "ca", "co.in", "ie", "co.za", "com.ng", "com.br", "pt", "com.mx", "es", "fr", "de"}
)


class _GttsAt(gTTS):  # type: ignore[misc]  # gTTS has no type information: its class is Any
    """gTTS sending its requests to another batchexecute endpoint (a mirror, a proxy, a test server)."""

    def __init__(self, *args: Any, endpoint: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint

    def _prepare_requests(self) -> list[Any]:  # requests' PreparedRequest objects
        prepared: list[Any] = super()._prepare_requests()
        for request in prepared:
            request.prepare_url(self.endpoint, None)
        return prepared


class GttsEngine(TtsEngine):
    name = "gtts"
    sample_rate = 24000

    def __init__(
        self, ffmpeg: str = "ffmpeg", timeout: float = 30.0, endpoint: str = "", retries: int = 3, backoff: float = 1.0
    ):
        self.ffmpeg = ffmpeg
        self.timeout = timeout
        self.endpoint = endpoint
        self.retries = retries  # for HTTP 429, Google's "too many requests"
        self.backoff = backoff

    def version(self) -> str:
        # Google's voice may change without a release of the client; the cache's entries expire.
        return f"gTTS {package_version('gTTS')}"

    def languages(self) -> dict[str, str]:
        return {code.lower(): name for code, name in tts_langs().items()}

    def voices(self) -> frozenset[str]:
        return ACCENTS

    def synthesize(self, text: str, lang: str, voice: str | None) -> bytes:
        # gTTS's ``tld`` picks the accent (com, co.uk, com.au, ...); we expose it as the voice.
        options = dict(text=text, lang=lang, tld=voice or "com", timeout=self.timeout, lang_check=False)
        client = _GttsAt(endpoint=self.endpoint, **options) if self.endpoint else gTTS(**options)
        for attempt in range(self.retries + 1):
            mp3 = io.BytesIO()
            try:
                client.write_to_fp(mp3)
                return self._decode(mp3.getvalue())
            except gTTSError as error:
                status = getattr(getattr(error, "rsp", None), "status_code", None)
                if status != 429 or attempt == self.retries:
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    answered = f"answered HTTP {status}" if status else "could not be reached"
                    logger.warning("gTTS failed", extra={"detail": str(error)})
                    raise TtsError(f"Google's speech service {answered}{tries}") from error
                # Too many requests: back off, more each time.
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _decode(self, mp3: bytes) -> bytes:
        command = [
            self.ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "mp3",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(self.sample_rate),
            "pipe:1",
        ]
        try:
            result = subprocess.run(command, input=mp3, capture_output=True, timeout=self.timeout)
        except (OSError, subprocess.SubprocessError) as error:
            raise TtsError("could not decode the audio of Google's speech service") from error
        if result.returncode != 0 or not result.stdout:
            logger.warning("gTTS audio not decoded", extra={"stderr": result.stderr.decode(errors="replace").strip()})
            raise TtsError("could not decode the audio of Google's speech service")
        return result.stdout
