"""Settings read from environment variables (set by template.yaml in AWS, by the local stack here)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_list(name: str, default: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in _env(name, default).split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    sessions_table: str
    media_bucket: str
    # URL path under which the media keys are served; equals the key prefix so the CDN path is the key.
    media_prefix: str
    session_ttl_days: int

    generate_invoker: str
    generate_function_name: str
    local_generate_concurrency: int

    tts_engine: str
    tts_engines: tuple[str, ...]
    tts_timeout_seconds: float
    default_lang: str

    max_text_chars: int
    max_body_bytes: int
    first_chunk_max_chars: int
    chunk_max_chars: int

    segment_seconds: float
    aac_bitrate: str
    audio_sample_rate: int
    ffmpeg_path: str
    espeak_path: str
    gtts_url: str
    gtts_retries: int
    gtts_backoff_seconds: float
    polly_engine: str

    # The LLM step is on when a model is named.
    openai_model: str
    openai_base_url: str
    openai_api_key: str
    openai_api_key_parameter: str
    llm_max_chars: int
    llm_max_tokens: int
    llm_timeout_seconds: float
    llm_total_seconds: float
    llm_max_retries: int

    # Generate stops this long before Lambda's timeout, to close the stream and say why.
    finish_margin_seconds: float
    # A running session writes a heartbeat this often; status calls it stalled after stall_seconds
    # without one, and a session still PENDING after pending_limit_seconds never started.
    heartbeat_seconds: float
    stall_seconds: float
    pending_limit_seconds: float

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_model)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            sessions_table=_env("SESSIONS_TABLE", "audiostream-sessions"),
            media_bucket=_env("MEDIA_BUCKET", "audiostream-media"),
            media_prefix=_env("MEDIA_PREFIX", "media/hls").strip("/"),
            session_ttl_days=_env_int("SESSION_TTL_DAYS", 7),
            generate_invoker=_env("GENERATE_INVOKER", "lambda"),
            generate_function_name=_env("GENERATE_FUNCTION_NAME", "audiostream-generate"),
            local_generate_concurrency=_env_int("LOCAL_GENERATE_CONCURRENCY", 4),
            tts_engine=_env("TTS_ENGINE", "gtts"),
            tts_engines=_env_list("TTS_ENGINES", "espeak,gtts"),
            tts_timeout_seconds=_env_float("TTS_TIMEOUT_SECONDS", 30.0),
            default_lang=_env("DEFAULT_LANG", "en"),
            max_text_chars=_env_int("MAX_TEXT_CHARS", 5000),
            max_body_bytes=_env_int("MAX_BODY_BYTES", 16 * 1024),
            first_chunk_max_chars=_env_int("FIRST_CHUNK_MAX_CHARS", 80),
            chunk_max_chars=_env_int("CHUNK_MAX_CHARS", 300),
            segment_seconds=_env_float("SEGMENT_SECONDS", 2.0),
            aac_bitrate=_env("AAC_BITRATE", "64k"),
            audio_sample_rate=_env_int("AUDIO_SAMPLE_RATE", 44100),
            ffmpeg_path=_env("FFMPEG_PATH", "ffmpeg"),
            espeak_path=_env("ESPEAK_PATH", "espeak-ng"),
            gtts_url=_env("GTTS_URL", ""),
            gtts_retries=_env_int("GTTS_RETRIES", 3),
            gtts_backoff_seconds=_env_float("GTTS_BACKOFF_SECONDS", 1.0),
            polly_engine=_env("POLLY_ENGINE", "standard"),
            openai_model=_env("OPENAI_MODEL", ""),
            openai_base_url=_env("OPENAI_BASE_URL", ""),
            openai_api_key=_env("OPENAI_API_KEY", ""),
            openai_api_key_parameter=_env("OPENAI_API_KEY_PARAMETER", ""),
            llm_max_chars=_env_int("LLM_MAX_CHARS", 3000),
            llm_max_tokens=_env_int("LLM_MAX_TOKENS", 1000),
            llm_timeout_seconds=_env_float("LLM_TIMEOUT_SECONDS", 20.0),
            llm_total_seconds=_env_float("LLM_TOTAL_SECONDS", 240.0),
            llm_max_retries=_env_int("LLM_MAX_RETRIES", 1),
            finish_margin_seconds=_env_float("FINISH_MARGIN_SECONDS", 30.0),
            heartbeat_seconds=_env_float("HEARTBEAT_SECONDS", 15.0),
            stall_seconds=_env_float("STALL_SECONDS", 120.0),
            pending_limit_seconds=_env_float("PENDING_LIMIT_SECONDS", 1800.0),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings.from_env()
