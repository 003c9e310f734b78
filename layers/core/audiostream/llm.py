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

from . import aws
from .config import Settings

SYSTEM_PROMPT = (
    "You write for the ear: your answer is read aloud by a text-to-speech voice as you write it. "
    "Answer in {language}. Write plain spoken prose in full sentences; begin with a short first "
    "sentence. No headings, lists, markdown, emoji, URLs or stage directions. "
    "Keep the whole answer under {max_chars} characters."
)


class LlmError(Exception):
    """The expansion failed; the message is meant for the user (it ends up in the session's error)."""


@lru_cache(maxsize=4)
def _key_from_parameter_store(name: str) -> str:
    answer = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
    return answer["Parameter"]["Value"]


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
    where = settings.llm.openai_base_url or "the OpenAI API"
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
    except APITimeoutError as error:
        raise LlmError(
            f"the language model at {where} sent nothing for {settings.llm.llm_timeout_seconds:g} s"
        ) from error
    except APIConnectionError as error:
        if produced:
            raise LlmError(f"the connection to the language model broke mid-answer ({error})") from error
        raise LlmError(f"the language model at {where} could not be reached ({error})") from error
    except APIStatusError as error:
        detail = error.body.get("message") if isinstance(error.body, dict) else None
        raise LlmError(f"the language model answered HTTP {error.status_code}: {detail or error.message}") from error
    except APIError as error:
        raise LlmError(f"the language model failed mid-answer: {error.message}") from error
    except httpx2.TimeoutException as error:
        raise LlmError(
            f"the language model at {where} sent nothing for {settings.llm.llm_timeout_seconds:g} s"
        ) from error
    except httpx2.HTTPError as error:
        raise LlmError(f"the connection to the language model broke mid-answer ({error})") from error
    if produced == 0:
        raise LlmError("the language model gave an empty answer")
