"""The dev stack's own settings (its address, storage port, rate limit, page folder), checked at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from audiostream.config import SettingsError, describe_invalid

REPO = Path(__file__).resolve().parents[1]
Port = Annotated[int, Field(ge=0, le=65535)]


class DevStackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, str_strip_whitespace=True, frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: Port = 8000
    # 0: a free port. Ignored when AWS_ENDPOINT_URL names storage that is already running.
    moto_port: Port = 0
    # Start requests per client per minute (API Gateway's throttling in AWS); 0 turns it off.
    local_rate_limit_per_minute: Annotated[int, Field(ge=0)] = 60
    web_dir: Path = REPO / "web" / "dist"
    log_level: str = "INFO"


def dev_stack_settings() -> DevStackSettings:
    try:
        return DevStackSettings()
    except ValidationError as invalid:
        raise SettingsError("invalid settings: " + "; ".join(describe_invalid(invalid))) from None
