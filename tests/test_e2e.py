"""The local stack over real HTTP, as a browser or the seed's frontend uses it."""

import http.client
import json
import time
from urllib.parse import quote, urlsplit

import m3u8
import pytest
import requests

from support.audio import espeak_alone_duration, probe_hls
from support.paths import read_text

pytestmark = pytest.mark.stack


def start(stack, **body) -> dict:
    answer = requests.post(f"{stack.url}/audiostream/start/", json=body, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()


def status(stack, task_id) -> dict:
    answer = requests.get(f"{stack.url}/audiostream/task-status/{task_id}/", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def fetch_playlist(stack, path) -> m3u8.M3U8:
    answer = requests.get(stack.url + path, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert answer.headers["Cache-Control"] == "max-age=1"
    return m3u8.loads(answer.text)


def fetch_media(stack, playlist_path, name) -> bytes:
    url = stack.url + playlist_path.rsplit("/", 1)[0] + "/" + name
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, f"{name} named in the playlist but not fetchable: {answer.status_code}"
    assert answer.headers["Content-Type"] == "audio/mp4"
    assert answer.headers["Cache-Control"] == "max-age=31536000, immutable"
    return answer.content


def test_a_three_paragraph_text_streams_to_success_with_rising_progress(local_stack):
    text = read_text("three_paragraphs.txt")
    started = start(local_stack, prompt=text, lang="en")
    # The playlist URL of the answer loads at once.
    fetch_playlist(local_stack, started["playlist"])

    states, progress = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = status(local_stack, started["task_id"])
        states.append(answer["state"])
        if "progress" in answer:
            progress.append(answer["progress"])
        if answer["state"] in ("SUCCESS", "FAILURE"):
            break
        time.sleep(0.02)
    final = answer
    assert final["state"] == "SUCCESS", final
    folder = started["playlist"].rsplit("/", 1)[0]
    assert final["result"] == {
        "playlist": started["playlist"],
        "master": started["master"],
        "transcript": f"{folder}/transcript.json",
        "download": f"{folder}/audio.m4a",
    }
    assert final["playlist"] == started["playlist"] and final["transcript"] == final["result"]["transcript"]
    assert set(states) <= {"PENDING", "PROGRESS", "SUCCESS"}
    assert states.index("SUCCESS") == len(states) - 1
    assert progress == sorted(progress) and progress[-1] == 100

    playlist = fetch_playlist(local_stack, started["playlist"])
    assert playlist.playlist_type == "event" and playlist.is_endlist
    assert playlist.segment_map[0].uri == "init.mp4"
    init = fetch_media(local_stack, started["playlist"], "init.mp4")
    segments = [fetch_media(local_stack, started["playlist"], s.uri) for s in playlist.segments]
    audio = probe_hls(init, segments)
    assert audio["codec"] == "aac"
    assert audio["decoded_duration"] == pytest.approx(espeak_alone_duration(text), rel=0.05)
    assert final["segments"] == len(segments)
    assert final["duration"] == pytest.approx(audio["decoded_duration"], rel=0.05)


def test_segments_are_listed_while_the_session_is_still_generating(local_stack):
    text = read_text("three_paragraphs.txt") * 2
    assert espeak_alone_duration(text) >= 60
    started = start(local_stack, text=text)
    streaming_seen = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        playlist = fetch_playlist(local_stack, started["playlist"])  # first the playlist...
        state = status(local_stack, started["task_id"])["state"]  # ...then the state
        if playlist.segments and state == "PROGRESS":
            streaming_seen = playlist
            break
        if state in ("SUCCESS", "FAILURE"):
            break
    assert streaming_seen is not None, "no segment was listed before the session ended"
    assert not streaming_seen.is_endlist
    # A segment is uploaded before any playlist that names it.
    for segment in streaming_seen.segments:
        fetch_media(local_stack, started["playlist"], segment.uri)
    while status(local_stack, started["task_id"])["state"] == "PROGRESS":
        assert time.monotonic() < deadline, "the session did not end"
        time.sleep(0.05)
    assert status(local_stack, started["task_id"])["state"] == "SUCCESS"


@pytest.mark.parametrize(
    "payload, status_code, field",
    [
        (b'{"prompt": ""}', 400, "prompt"),
        (b'{"lang": "en"}', 400, "prompt"),
        (b"this is not json", 400, "body"),
        (b'{"prompt": "Hi", "lang": "tlh"}', 400, "lang"),
        (b'{"prompt": "Hi", "engine": "nope"}', 400, "engine"),
        (('{"prompt": "' + "a" * 6000 + '"}').encode(), 400, "prompt"),
        (('{"prompt": "' + "a" * 20000 + '"}').encode(), 413, "body"),
    ],
)
def test_bad_input_gets_a_json_4xx_naming_the_field(local_stack, payload, status_code, field):
    answer = requests.post(f"{local_stack.url}/audiostream/start/", data=payload, timeout=10)
    assert answer.status_code == status_code
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        "/audiostream/task-status/0123456789abcdef0123456789abcdef/",
        "/audiostream/task-status/0123456789abcdef0123456789abcdef",
        "/audiostream/task-status/..%2F..%2Fetc%2Fpasswd/",
        "/audiostream/unknown/",
        "/media/hls/0123456789abcdef0123456789abcdef/audio.m3u8",
    ],
)
def test_unknown_things_are_404_json(local_stack, path):
    answer = requests.get(local_stack.url + path, timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()


def test_the_page_is_served_with_its_player(local_stack):
    page = requests.get(local_stack.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert '<script src="hls.min.js">' in page.text
    assert requests.get(local_stack.url + "/hls.min.js", timeout=10).status_code == 200


def raw_request(stack, request: bytes) -> bytes:
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(stack.url)
    with socket.create_connection((url.hostname, url.port), timeout=5) as connection:
        connection.sendall(request)
        return connection.recv(65536)


@pytest.mark.parametrize(
    "headers, expected",
    [
        (b"Content-Length: abc\r\n", b"400"),
        (b"Content-Length: -1\r\n", b"400"),
        (b"Transfer-Encoding: chunked\r\n", b"411"),
    ],
)
def test_a_malformed_body_length_is_refused_in_json(local_stack, headers, expected):
    answer = raw_request(
        local_stack, b"POST /audiostream/start/ HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"
    )
    status_line, _, rest = answer.partition(b"\r\n")
    assert expected in status_line
    assert b"application/json" in rest


@pytest.mark.parametrize(
    "payload, status_code, field",
    [
        (b'{"prompt": ' + b"[" * 3000 + b"]" * 3000 + b"}", 400, "body"),
        (b'{"prompt": "caf\xe9 au lait"}', 400, "body"),  # Latin-1, not UTF-8
        (b'{"prompt": "\\ud800"}', 400, "prompt"),
        (b"x" * (11 * 1024 * 1024), 413, None),  # beyond API Gateway's 10 MB: refused before any function
    ],
)
def test_hostile_bodies_get_a_json_4xx(local_stack, payload, status_code, field):
    answer = requests.post(f"{local_stack.url}/audiostream/start/", data=payload, timeout=30)
    assert answer.status_code == status_code
    assert answer.headers["Content-Type"] == "application/json"
    if field:
        assert answer.json()["field"] == field


def test_control_characters_and_emoji_in_a_prompt_are_spoken(local_stack):
    started = start(local_stack, prompt="Hello \U0001f44b\x07 world\x00 \U0001f30d. The end\u200b. \u2603")
    deadline = time.monotonic() + 30
    while (answer := status(local_stack, started["task_id"]))["state"] not in ("SUCCESS", "FAILURE"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert answer["state"] == "SUCCESS" and answer["duration"] > 0.5


@pytest.mark.parametrize(
    "task_id",
    [
        "a" * 1000,
        "' OR '1'='1",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "%00",
        "a%0Ab",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f",
    ],
)
def test_hostile_task_ids_are_404_json(local_stack, task_id):
    # http.client sends the path as written; requests would normalize some of these away.
    url = urlsplit(local_stack.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.request("GET", f"/audiostream/task-status/{quote(task_id, safe='%')}/")
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    assert answer.status == 404
    assert answer.getheader("Content-Type") == "application/json" and json.loads(body)
