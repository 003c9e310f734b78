"""The dev stack's own settings (its address, storage port, abuse limits, page folder), checked at start."""

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
    # Status and engines requests per client per minute, in bursts of at most ten seconds' worth; 0
    # turns it off. The page polls a session about 7 times a second until its first segment (and while
    # it waits for a generator), then once a second: 1200 lets a client follow 3 sessions at the fast rate.
    local_status_rate_limit_per_minute: Annotated[int, Field(ge=0)] = 1200
    # Sessions one client may have generating, or waiting for a generator, at once (429 beyond); 0
    # turns it off. LOCAL_GENERATE_CONCURRENCY (4) generate for all clients together.
    local_sessions_per_client: Annotated[int, Field(ge=0)] = 2
    # Seconds a client has to send a whole request (head and body, however slowly it trickles in),
    # to take each answer, and to send its next request on a kept-alive connection.
    local_socket_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 10.0
    # Connections served at once; more wait, accepted but unread, in the order they came.
    local_max_connections: Annotated[int, Field(ge=1, le=10_000)] = 64
    web_dir: Path = REPO / "web" / "dist"
    log_level: str = "INFO"


def dev_stack_settings() -> DevStackSettings:
    try:
        return DevStackSettings()
    except ValidationError as invalid:
        raise SettingsError("invalid settings: " + "; ".join(describe_invalid(invalid))) from None
