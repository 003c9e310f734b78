"""Load on the local stack: 200 start requests from 20 concurrent clients, each on its own loopback
address, against a stack that allows 8 starts per client per minute and 3 sessions generating at once."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from urllib.parse import urlsplit

import boto3
import pytest

from support.stack import start_local_stack, stop_local_stack

pytestmark = pytest.mark.stack

CLIENTS, REQUESTS_EACH, PER_MINUTE, AT_ONCE = 20, 10, 8, 3


def client_requests(host: str, port: int, source: str, answers: list) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    for number in range(REQUESTS_EACH):
        body = json.dumps({"text": f"Client {source} says hello, time {number}."})
        sent_at = time.time()
        connection.request("POST", "/audiostream/start/", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = json.loads(response.read())
        answers.append((source, response.status, response.getheader("Retry-After"), payload, sent_at, time.time()))
    connection.close()


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_two_hundred_starts_from_twenty_clients(tmp_path):
    stack = start_local_stack(
        tmp_path / "stack.log",
        LOCAL_RATE_LIMIT_PER_MINUTE=str(PER_MINUTE),
        LOCAL_GENERATE_CONCURRENCY=str(AT_ONCE),
        LOG_LEVEL="ERROR",
        POWERTOOLS_LOG_LEVEL="ERROR",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    try:
        url = urlsplit(stack.url)
        answers: list = []
        began = time.monotonic()
        clients = [
            threading.Thread(target=client_requests, args=(url.hostname, url.port, f"127.0.0.{n + 2}", answers))
            for n in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        answered_in = time.monotonic() - began

        assert len(answers) == CLIENTS * REQUESTS_EACH
        assert {status for _, status, *_ in answers} <= {202, 429}
        for _, status, retry_after, payload, *_ in answers:
            if status == 429:
                assert int(retry_after) >= 1 and payload == {"message": "Too Many Requests"}
        for source in {source for source, *_ in answers}:
            accepted = [status for s, status, *_ in answers if s == source].count(202)
            assert PER_MINUTE <= accepted <= PER_MINUTE + 1, (source, accepted)  # + what refills meanwhile
        accepted = [payload["session_id"] for _, status, _, payload, *_ in answers if status == 202]
        # When start handed each session to generate: after the request was sent, before it was answered.
        handed_over = {
            payload["session_id"]: (sent_at, answered_at)
            for _, status, _, payload, sent_at, answered_at in answers
            if status == 202
        }

        # Every accepted session ends in SUCCESS.
        endpoint = re.search(r"moto server at (http://\S+) ", stack.log.read_text()).group(1)
        table = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while True:
            items = table.scan(TableName="audiostream-sessions")["Items"]
            items = [item for item in items if not item["session_id"]["S"].startswith("cache#")]  # sessions only
            states = [item["state"]["S"] for item in items]
            if states.count("SUCCESS") == len(accepted) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        all_done_in = time.monotonic() - began
        assert sorted(item["session_id"]["S"] for item in items) == sorted(accepted)
        assert states.count("SUCCESS") == len(accepted), {state: states.count(state) for state in set(states)}

        # Never more than AT_ONCE generating at once, and they started in the order they arrived.
        sessions = sorted(
            (float(item["created_at"]["N"]), float(item["started_at"]["N"]), float(item["updated_at"]["N"]))
            for item in items
        )
        assert most_at_once([(started, ended) for _, started, ended in sessions]) <= AT_ONCE
        # The queue is first in, first out by the moment start hands a session over. That moment lies
        # between the client's sending the request and its receiving the answer (on a busy machine the
        # storage calls before it can take seconds), so a session is held to come after another only
        # when its request was sent after the other's answer came back. Between a worker's taking a
        # session and its claim there is no I/O, only CPU: half a second covers a starved thread.
        started_at = {item["session_id"]["S"]: float(item["started_at"]["N"]) for item in items}
        ordered_pairs = 0
        for earlier, (_, earlier_answered) in handed_over.items():
            for later, (later_sent, _) in handed_over.items():
                if later_sent - earlier_answered > 0.5:
                    ordered_pairs += 1
                    assert started_at[later] >= started_at[earlier], (earlier, later)
        assert ordered_pairs > 0
        waited = sum(started - created > 0.5 for created, started, _ in sessions)
        assert waited > 0, "with 3 at once, later sessions must have waited as PENDING"
        print(
            f"\n{len(answers)} requests answered in {answered_in:.1f} s: {len(accepted)} accepted (202), "
            f"{len(answers) - len(accepted)} refused (429); all {len(accepted)} SUCCESS {all_done_in:.1f} s "
            f"after the first request; at most {most_at_once([(s, e) for _, s, e in sessions])} generating at "
            f"once; {waited} waited over 0.5 s as PENDING"
        )
    finally:
        stop_local_stack(stack)
