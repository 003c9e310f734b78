import json

import pytest

from audiostream.api.start_request import InvalidRequest, parse_start_request
from audiostream.config import Settings


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def refusal(raw: bytes, settings) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_start_request(raw, settings)
    return caught.value


def test_a_prompt_with_defaults(settings):
    request = parse_start_request(body(prompt="Hello there."), settings)
    assert (request.text, request.text_given, request.lang, request.engine, request.voice) == (
        "Hello there.",
        False,
        "en",
        "espeak",
        None,
    )


def test_text_wins_over_prompt(settings):
    request = parse_start_request(body(prompt="Tell a story", text="Spoken as is.", lang="EN"), settings)
    assert request.text == "Spoken as is." and request.text_given and request.lang == "en"


@pytest.mark.parametrize(
    "raw, field, status, words",
    [
        (body(), "prompt", 400, "required"),
        (body(prompt="   \n"), "prompt", 400, "blank"),
        (body(prompt=None), "prompt", 400, "required"),
        (body(text=""), "text", 400, "blank"),
        (body(prompt=42), "prompt", 400, "string"),
        (body(prompt=["a"]), "prompt", 400, "string"),
        (body(prompt="x" * 5001), "prompt", 400, "5001 characters"),
        (body(prompt="ok", text="x" * 5001), "text", 400, "limit is 5000"),
        (body(prompt="Hi", lang="xx-nowhere"), "lang", 400, "not supported"),
        (body(prompt="Hi", lang=5), "lang", 400, "string"),
        (body(prompt="Hi", engine="nope"), "engine", 400, "offers: espeak, gtts"),
        (body(prompt="Hi", voice="f3; rm -rf /"), "voice", 400, "not one of engine 'espeak'"),
        (body(prompt="Hi", engine="gtts", voice="evil.example.com"), "voice", 400, "not one of engine 'gtts'"),
        (body(text="... !!! ???"), "text", 400, "nothing to speak"),
        (body(prompt="\ud800 lone"), "prompt", 400, "lone surrogate"),
        (b'{"prompt": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body", 400, "nested too deeply"),
        (b"not json", "body", 400, "not valid JSON"),
        (b"\xff\xfe\x00", "body", 400, "not valid JSON"),
        (b"[1, 2]", "body", 400, "JSON object"),
        (b'"prompt"', "body", 400, "JSON object"),
        (body(prompt="x" * 17000), "body", 413, "limit is 16384"),
    ],
)
def test_bad_input_is_refused_naming_the_field(settings, raw, field, status, words):
    invalid = refusal(raw, settings)
    assert (invalid.field, invalid.status) == (field, status)
    assert words in invalid.message


def test_an_engine_not_offered_by_this_deployment_is_refused(settings, monkeypatch):
    monkeypatch.setenv("TTS_ENGINES", "espeak")
    only_espeak = Settings.from_env()
    assert refusal(body(prompt="Hi", engine="gtts"), only_espeak).field == "engine"


def test_voices_are_those_of_the_chosen_engine(settings):
    assert parse_start_request(body(prompt="Hi", voice="f3"), settings).voice == "f3"
    assert parse_start_request(body(prompt="Hi", engine="gtts", voice="co.uk"), settings).voice == "co.uk"


def test_languages_are_those_of_the_chosen_engine(settings):
    assert parse_start_request(body(prompt="Hallo", lang="de"), settings).lang == "de"
    # gTTS knows Hawaiian as "haw" too, but not espeak's "jbo" (Lojban).
    assert parse_start_request(body(prompt="coi", lang="jbo"), settings).engine == "espeak"
    assert refusal(body(prompt="coi", lang="jbo", engine="gtts"), settings).field == "lang"
