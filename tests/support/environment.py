"""The environment every test runs in: fake AWS credentials, test names, no developer settings."""

from __future__ import annotations

TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "SESSIONS_TABLE": "test-sessions",
    "MEDIA_BUCKET": "test-media",
    "TTS_ENGINE": "espeak",
    "GENERATE_INVOKER": "local",
}


def is_outside_setting(name: str) -> bool:
    """Settings a developer's shell may carry that would change what the tests see."""
    return name.startswith(("AWS_", "OPENAI_", "LLM_", "TTS_", "POLLY_", "GTTS_"))
