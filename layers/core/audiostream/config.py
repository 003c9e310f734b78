"""Settings read from environment variables (set by template.yaml in AWS, by the dev stack here).

One validated model, in groups; each field is read from the variable of its name in capitals
(``sessions_table`` from ``SESSIONS_TABLE``), and an empty variable means the default. A bad value
stops the process where it starts (a Lambda cold start, ``make run``) with a message naming the
variable, instead of a 500 on the first request.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Seconds = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


class _FromEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, str_strip_whitespace=True, frozen=True, extra="ignore")


class StorageSettings(_FromEnvironment):
    sessions_table: str = "audiostream-sessions"
    media_bucket: str = "audiostream-media"
    # URL path under which the media keys are served; equals the key prefix so the CDN path is the key.
    media_prefix: str = "media/hls"
    session_ttl_days: Count = 7

    @field_validator("media_prefix")
    @classmethod
    def _without_slashes(cls, value: str) -> str:
        return value.strip("/")


class InvocationSettings(_FromEnvironment):
    """How start hands a session to generate (see invoker.py)."""

    generate_invoker: Literal["lambda", "local"] = "lambda"
    generate_function_name: str = "audiostream-generate"
    local_generate_concurrency: Count = 4


class RequestLimits(_FromEnvironment):
    # At most 4 bytes a character in UTF-8: the spoken text written when a session ends stays far
    # below DynamoDB's 400 KB item limit.
    max_text_chars: Annotated[int, Field(ge=1, le=20_000)] = 5000
    max_body_bytes: Count = 16 * 1024
    # The most audio one session makes (see audio_budget.py): about twice what the longest English
    # text takes, so that no text costs much more than an ordinary one of the same length.
    max_audio_seconds: Seconds = 600.0


class SpeechSettings(_FromEnvironment):
    # The engine of a request that names none, or several, best first ("hibari,espeak"): the first that
    # speaks the request's language. Each must be one of those offered.
    tts_engine: Annotated[tuple[str, ...], NoDecode] = ("gtts",)
    tts_engines: Annotated[tuple[str, ...], NoDecode] = ("espeak", "gtts", "hibari")
    tts_timeout_seconds: Seconds = 30.0
    default_lang: str = "en"
    first_chunk_max_chars: Count = 80
    chunk_max_chars: Count = 300
    # The first segments' length (ffmpeg's parts), and the longest a segment becomes when parts are
    # joined while the stream is far ahead of its listener (the playlist's target duration).
    segment_seconds: Seconds = 2.0
    # 8: a minute of audio is 7.5 segments (and as many captions) instead of 15 at 4, which halves the
    # S3 PUTs that are most of a session's cost (README, Performance).
    longest_segment_seconds: Annotated[int, Field(ge=1, le=10)] = 8
    aac_bitrate: Annotated[str, Field(pattern=r"^[1-9][0-9]*k$")] = "64k"
    audio_sample_rate: Annotated[int, Field(ge=8000, le=96000)] = 44100
    ffmpeg_path: str = "ffmpeg"
    espeak_path: str = "espeak-ng"
    gtts_url: str = ""
    gtts_retries: Annotated[int, Field(ge=0)] = 3
    gtts_backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    polly_engine: Literal["standard", "neural", "long-form", "generative"] = "standard"
    # Polly's speech marks time its captions' sentences and words: a second request per piece, billed
    # by its characters as the speech is (so Polly costs twice as much with them).
    polly_speech_marks: bool = False
    # Integrated loudness (EBU R128) every engine's stream is levelled to; see loudness.py.
    loudness_lufs: Annotated[float, Field(ge=-40, le=-6)] = -16.0
    # Captions inside the stream (subs.m3u8, master.m3u8, a WebVTT segment per audio segment) and
    # transcript.json; off saves those writes (about as many PUTs as the audio's, see README).
    captions: bool = True
    # The same words with the same settings are generated once (see content_cache.py).
    content_cache: bool = True
    # Each session leaves an ffmpeg started for the next one on the same instance (ready_encoder.py).
    ready_encoder: bool = True

    @property
    def target_duration(self) -> int:
        """The playlists' EXT-X-TARGETDURATION, which must not change while a playlist grows."""
        return self.longest_segment_seconds

    @field_validator("tts_engine", "tts_engines", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(name.strip() for name in value.split(",") if name.strip())
        return value

    @model_validator(mode="after")
    def _default_is_offered(self) -> SpeechSettings:
        if not self.tts_engines:
            raise ValueError("TTS_ENGINES offers no engine")
        if not self.tts_engine:
            raise ValueError("TTS_ENGINE names no engine")
        for name in self.tts_engine:
            if name not in self.tts_engines:
                raise ValueError(f"TTS_ENGINE={name!r} is not offered by TTS_ENGINES={','.join(self.tts_engines)}")
        if self.polly_speech_marks and self.polly_engine == "generative":
            raise ValueError("POLLY_SPEECH_MARKS=true, but Polly's generative engine has no speech marks")
        if self.longest_segment_seconds < self.segment_seconds:
            raise ValueError(
                f"LONGEST_SEGMENT_SECONDS={self.longest_segment_seconds} is shorter than "
                f"SEGMENT_SECONDS={self.segment_seconds:g}"
            )
        return self


class LlmSettings(_FromEnvironment):
    # The LLM step is on when a model is named.
    openai_model: str = ""
    openai_base_url: str = ""
    # A secret: never in a repr or a log line; in AWS the key comes from SSM instead.
    openai_api_key: SecretStr = SecretStr("")
    openai_api_key_parameter: str = ""
    llm_max_chars: Annotated[int, Field(ge=1, le=20_000)] = 3000
    llm_max_tokens: Count = 1000
    llm_timeout_seconds: Seconds = 20.0
    llm_total_seconds: Seconds = 240.0
    llm_max_retries: Annotated[int, Field(ge=0)] = 1

    @property
    def enabled(self) -> bool:
        return bool(self.openai_model)


class TimingSettings(_FromEnvironment):
    # Generate stops this long before Lambda's timeout, to close the stream and say why.
    finish_margin_seconds: Annotated[float, Field(ge=0)] = 30.0
    # A running session writes a heartbeat this often; status calls it stalled after stall_seconds
    # without one, and a session still PENDING after pending_limit_seconds never started.
    heartbeat_seconds: Seconds = 15.0
    stall_seconds: Seconds = 120.0
    pending_limit_seconds: Seconds = 1800.0

    @model_validator(mode="after")
    def _stall_outlasts_heartbeat(self) -> TimingSettings:
        if self.stall_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"STALL_SECONDS={self.stall_seconds:g} must be longer than "
                f"HEARTBEAT_SECONDS={self.heartbeat_seconds:g}, or every running session would look stalled"
            )
        return self


class SettingsError(Exception):
    """A setting has a value that cannot work; the message names the variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    storage: StorageSettings
    invocation: InvocationSettings
    limits: RequestLimits
    speech: SpeechSettings
    llm: LlmSettings
    timing: TimingSettings

    @classmethod
    def from_env(cls) -> Settings:
        problems: list[str] = []
        values: dict[str, Any] = {}  # one group of its own type per field
        for name, field in cls.model_fields.items():
            group = cast(type[_FromEnvironment], field.annotation)  # every field is a group of variables
            try:
                values[name] = group()  # each group reads its own variables
            except ValidationError as invalid:
                problems.extend(describe_invalid(invalid))
        if problems:
            raise SettingsError("invalid settings: " + "; ".join(problems))
        return cls(**values)


def describe_invalid(invalid: ValidationError) -> list[str]:
    """One sentence per problem, naming the variable."""
    problems = []
    for error in invalid.errors(include_url=False):
        if error["loc"]:
            variable = str(error["loc"][0]).upper()
            problems.append(f"{variable}={error['input']!r}: {error['msg']}")
        else:  # a rule across fields, whose message names the variables
            problems.append(error["msg"].removeprefix("Value error, "))
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings.from_env()
