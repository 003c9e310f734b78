"""A loopback server speaking the batchexecute protocol gTTS uses, answering with real MP3 speech.

It decodes the request the way Google would, speaks the text with espeak-ng, encodes it to MP3
with ffmpeg and wraps it in the RPC envelope gTTS parses; or fails on purpose.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

from .loopback import LoopbackServer


def mp3_speech(text: str, lang: str) -> bytes:
    wav = subprocess.run(["espeak-ng", "-v", lang, "--stdout"], input=text.encode(), capture_output=True, check=True)
    mp3 = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-ar", "24000", "-ac", "1", "-b:a", "32k", "-f", "mp3", "pipe:1"],
        input=wav.stdout,
        capture_output=True,
        check=True,
    )
    return mp3.stdout


class FakeGoogleTts(LoopbackServer):
    def __init__(self):
        super().__init__(_Handler)
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        self.failures_left: int | None = None  # fail only this many requests (None: every one)
        self.delay = 0.0
        self.start()

    @property
    def endpoint(self) -> str:
        return f"{self.origin}/_/TranslateWebserverUi/data/batchexecute"


class _Handler(BaseHTTPRequestHandler):
    server: FakeGoogleTts

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        rpc = json.loads(form["f.req"][0])
        rpc_id, parameters = rpc[0][0][0], json.loads(rpc[0][0][1])
        text, lang = parameters[0], parameters[1]
        self.server.requests.append({"path": self.path, "rpc": rpc_id, "text": text, "lang": lang})
        if self.server.delay:
            time.sleep(self.server.delay)
        failing = self.server.fail_with and self.server.failures_left != 0
        if failing and self.server.failures_left:
            self.server.failures_left -= 1
        if failing:
            self.send_response(self.server.fail_with)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        audio = base64.b64encode(mp3_speech(text, lang)).decode()
        envelope = json.dumps(
            [["wrb.fr", rpc_id, json.dumps([audio]), None, None, None, "generic"]], separators=(",", ":")
        )
        body = f")]}}'\n\n{len(envelope)}\n{envelope}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass
