"""A loopback server speaking OpenAI's streaming chat-completions protocol (SSE over chunked HTTP),
writing a fixed answer word by word with a delay between tokens, as a model would; or failing on
purpose in one of the ways a real one does."""

from __future__ import annotations

import json
import re
import time
from http.server import BaseHTTPRequestHandler

from .loopback import LoopbackServer

MODES = ("answer", "http_error", "hang", "drop_mid_stream", "error_event_mid_stream", "empty")


class FakeOpenAi(LoopbackServer):
    def __init__(self, answer: str, token_delay: float = 0.03):
        super().__init__(_Handler)
        self.answer = answer
        self.token_delay = token_delay
        self.mode = "answer"
        self.fail_after_tokens = 30
        self.requests: list[dict] = []
        self.first_sentence_sent_at: float | None = None
        self.finished_at: float | None = None
        self.sent_text = ""
        self.start()

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def tokens(self) -> list[str]:
        return re.findall(r"\S+\s*", self.answer)


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAi
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "authorization": self.headers.get("Authorization"), **body})
        mode = self.server.mode
        if mode == "http_error":
            payload = json.dumps({"error": {"message": "The model is overloaded.", "type": "server_error"}}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event(self._chunk({"role": "assistant", "content": ""}))
        if mode == "hang":
            time.sleep(30)
            return
        if mode != "empty":
            for number, token in enumerate(self.server.tokens(), start=1):
                if mode in ("drop_mid_stream", "error_event_mid_stream") and number > self.server.fail_after_tokens:
                    if mode == "error_event_mid_stream":
                        self._event({"error": {"message": "the model crashed", "type": "server_error"}})
                        self._end()
                    self.close_connection = True  # no closing chunk: the body is cut short
                    return
                time.sleep(self.server.token_delay)
                self._event(self._chunk({"content": token}))
                self.server.sent_text += token
                if self.server.first_sentence_sent_at is None and re.search(r"[.!?]\s*$", token):
                    self.server.first_sentence_sent_at = time.time()
        self._event(self._chunk({}, finish_reason="stop"))
        self._write(b"data: [DONE]\n\n")
        self._end()
        self.server.finished_at = time.time()

    def _chunk(self, delta: dict, finish_reason: str | None = None) -> dict:
        return {
            "id": "chatcmpl-local",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "local-story-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def _event(self, data: dict) -> None:
        self._write(f"data: {json.dumps(data)}\n\n".encode())

    def _write(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass
