"""A loopback server speaking Amazon Polly's REST protocol (DescribeVoices, SynthesizeSpeech) as boto3
calls it, with speech whose every word is where its speech marks say.

Polly's real audio cannot be fetched here, so each word is a tone burst (50 ms per character, 60 ms
apart, 400 ms between sentences, 150 ms after the last): its onset is sharp, so a test can find each
word in the stream it becomes. ``OutputFormat=json`` answers the speech marks of the same text, as Polly does: one JSON
object a line, ``time`` in milliseconds, ``start``/``end`` in bytes of the UTF-8 text.
"""

from __future__ import annotations

import json
import math
import re
import struct
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackServer

RATE = 16000
VOICES = [
    {"Id": "Joanna", "Name": "Joanna", "Gender": "Female", "LanguageCode": "en-US", "LanguageName": "US English"},
    {"Id": "Celine", "Name": "Céline", "Gender": "Female", "LanguageCode": "fr-FR", "LanguageName": "French"},
]
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_WORD = re.compile(r"[^\s.,!?;:]+")


def layout(text: str) -> tuple[list[dict], int]:
    """The speech marks of ``text`` and the length of its audio in milliseconds."""
    data, marks, now = text.encode(), [], 0
    for sentence in _SENTENCE.finditer(text):
        words = list(_WORD.finditer(text, sentence.start(), sentence.end()))
        if not words:
            continue
        if marks:
            now += 400
        start = len(text[: sentence.start()].encode()) + len(sentence.group()) - len(sentence.group().lstrip())
        end = len(text[: sentence.end()].encode())
        marks.append({"time": now, "type": "sentence", "start": start, "end": end, "value": data[start:end].decode()})
        for number, word in enumerate(words):
            if number:
                now += 60
            start, end = len(text[: word.start()].encode()), len(text[: word.end()].encode())
            marks.append({"time": now, "type": "word", "start": start, "end": end, "value": word.group()})
            now += 50 * len(word.group())
    return marks, now + 150  # a little silence at the end, as Polly's speech has


def pcm_of(marks: list[dict], length_ms: int) -> bytes:
    samples = [0] * (length_ms * RATE // 1000)
    for mark in (mark for mark in marks if mark["type"] == "word"):
        first = mark["time"] * RATE // 1000
        for index in range(first, first + 50 * len(mark["value"]) * RATE // 1000):
            samples[index] = int(8000 * math.sin(2 * math.pi * 220 * index / RATE))
    return struct.pack(f"<{len(samples)}h", *samples)


class FakePolly(LoopbackServer):
    def __init__(self):
        super().__init__(_Handler)
        self.requests: list[dict] = []  # each SynthesizeSpeech body
        self.start()


class _Handler(BaseHTTPRequestHandler):
    server: FakePolly

    def do_GET(self) -> None:
        if not self.path.startswith("/v1/voices"):
            return self._answer(404, "application/json", b'{"message": "not found"}')
        self._answer(200, "application/json", json.dumps({"Voices": VOICES}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        marks, length = layout(body["Text"])
        if body["OutputFormat"] == "json":
            wanted = set(body.get("SpeechMarkTypes", []))
            lines = "".join(json.dumps(mark, ensure_ascii=False) + "\n" for mark in marks if mark["type"] in wanted)
            return self._answer(200, "application/x-json-stream", lines.encode(), len(body["Text"]))
        if body["OutputFormat"] != "pcm" or body.get("SampleRate") != str(RATE):
            return self._answer(400, "application/json", b'{"__type": "InvalidSampleRateException"}')
        self._answer(200, "audio/pcm", pcm_of(marks, length), len(body["Text"]))

    def _answer(self, status: int, content_type: str, payload: bytes, characters: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if characters is not None:
            self.send_header("x-amzn-RequestCharacters", str(characters))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass
