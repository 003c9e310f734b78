"""Prompt expansion by a language model, streamed: text arrives piece by piece, as the model writes it.

The official ``openai`` client talks to OpenAI or any server that speaks its chat-completions API
(Ollama, vLLM, LM Studio) through ``OPENAI_BASE_URL``. Timeouts are tight and retries few, so a hung
model ends the session with a reason instead of eating the Lambda's 15 minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import lru_cache

import httpx2  # the openai client's HTTP transport; a stream that breaks mid-answer raises its errors
from openai import APIConnectionError, APIError, APIStatusError, APITimeoutError, OpenAI, Timeout

from .. import aws
from ..config import Settings
from ..errors import PublicError
from ..observability import logger

SYSTEM_PROMPT = (
    "You write for the ear: your answer is read aloud by a text-to-speech voice as you write it. "
    "Answer in {language}. Write plain spoken prose in full sentences; begin with a short first "
    "sentence. No headings, lists, markdown, emoji, URLs or stage directions. "
    "Keep the whole answer under {max_chars} characters."
)


class LlmError(PublicError):
    """The expansion failed (a public message: never the model's address or the provider's words)."""


@lru_cache(maxsize=4)
def _key_from_parameter_store(name: str) -> str:
    answer = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
    key: str = answer["Parameter"]["Value"]
    return key


def api_key(settings: Settings) -> str:
    """OPENAI_API_KEY where set (the local stack), else the SSM SecureString named by
    OPENAI_API_KEY_PARAMETER (AWS); local servers such as Ollama accept any key."""
    if key := settings.llm.openai_api_key.get_secret_value():
        return key
    if settings.llm.openai_api_key_parameter:
        return _key_from_parameter_store(settings.llm.openai_api_key_parameter)
    return "no-key-needed"


def client(settings: Settings) -> OpenAI:
    return OpenAI(
        api_key=api_key(settings),
        base_url=settings.llm.openai_base_url or None,
        timeout=Timeout(settings.llm.llm_timeout_seconds, connect=min(5.0, settings.llm.llm_timeout_seconds)),
        max_retries=settings.llm.llm_max_retries,
    )


def expand_prompt(prompt: str, language: str, settings: Settings, stop_at: float | None = None) -> Iterator[str]:
    """The model's answer to ``prompt``, piece by piece, at most ``llm_max_chars`` characters, and
    not past ``stop_at`` (time.monotonic()) or LLM_TOTAL_SECONDS, whichever comes first."""
    deadline = min(time.monotonic() + settings.llm.llm_total_seconds, stop_at or float("inf"))
    produced = 0
    try:
        stream = client(settings).chat.completions.create(
            model=settings.llm.openai_model,
            messages=[
                {
                    "role": "system",
                    "content": SYSTEM_PROMPT.format(language=language, max_chars=settings.llm.llm_max_chars),
                },
                {"role": "user", "content": prompt},
            ],
            stream=True,
            max_tokens=settings.llm.llm_max_tokens,
        )
        with stream:
            for event in stream:
                if time.monotonic() > deadline:
                    raise LlmError("the language model was still writing when the time for this session ran out")
                piece = event.choices[0].delta.content if event.choices else None
                if not piece:
                    continue
                piece = piece[: settings.llm.llm_max_chars - produced]
                produced += len(piece)
                yield piece
                if produced >= settings.llm.llm_max_chars:
                    break
    # The client reports a stream that stalls or breaks midway with the same errors as a failed
    # request; what was already received tells the two apart.
    except (APITimeoutError, httpx2.TimeoutException) as error:
        silence = f"the language model sent nothing for {settings.llm.llm_timeout_seconds:g} s"
        raise _failed(silence, error, settings) from error
    except APIConnectionError as error:
        if produced:
            raise _failed("the connection to the language model broke mid-answer", error, settings) from error
        raise _failed("the language model could not be reached", error, settings) from error
    except APIStatusError as error:
        raise _failed(f"the language model answered HTTP {error.status_code}", error, settings) from error
    except APIError as error:
        raise _failed("the language model failed mid-answer", error, settings) from error
    except httpx2.HTTPError as error:
        raise _failed("the connection to the language model broke mid-answer", error, settings) from error
    if produced == 0:
        raise LlmError("the language model gave an empty answer")


def _failed(public: str, error: Exception, settings: Settings) -> LlmError:
    """The public sentence as the error; what the provider said, and where, only in the log."""
    body = getattr(error, "body", None)
    detail = body.get("message") if isinstance(body, dict) else None
    where = settings.llm.openai_base_url or "the OpenAI API"
    logger.warning("language model failed: %s", public, extra={"detail": detail or str(error), "base_url": where})
    return LlmError(public)
