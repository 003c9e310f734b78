"""The demo page in a real browser: headless Debian chromium driven by Playwright, against the local stack.

Screenshots and the measured times land in test-output/.
"""

from __future__ import annotations

import json
import secrets
import threading
import time

import pytest
import requests
from playwright.sync_api import Page, sync_playwright

from audiostream.speech.chunking import split_into_sentences
from bench.browser import STEPS, click_to_sound, launch, medians

from support.paths import REPO, read_text
from support.stack import fresh_page, start_local_stack, stop_local_stack

pytestmark = [pytest.mark.browser, pytest.mark.stack]

OUTPUT = REPO / "test-output"
SHORT_TEXT = "Hello there. This sentence is spoken as soon as it is made, and the next one follows it."


@pytest.fixture(scope="module")
def browser():
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, local_stack):
    context = browser.new_context(viewport={"width": 900, "height": 1000})
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    page.goto(local_stack.url + "/")
    page.wait_for_function("document.getElementById('lang').options.length > 1")
    yield page
    context.close()


# Notes, in the page's own clock, when playback first passes 2 s.
TIME_PAST_TWO_SECONDS = """() => {
  const audio = document.getElementById('player');
  const note = () => {
    if (audio.currentTime <= 2) return;
    window.pastTwoSecondsAt = performance.now();
    audio.removeEventListener('timeupdate', note);
  };
  audio.addEventListener('timeupdate', note);
}"""


def player(page: Page, expression: str):
    return page.evaluate(f"(() => {{ const audio = document.getElementById('player'); return {expression}; }})()")


def test_a_prompt_plays_from_the_start_while_it_is_made_and_the_page_ends_done(page):
    page.fill("#prompt", read_text("three_paragraphs.txt") + f" ({secrets.token_hex(3)})")  # not a cache hit
    page.select_option("#engine", "espeak")
    page.select_option("#lang", "en-gb")
    page.click("#start")

    page.evaluate(TIME_PAST_TWO_SECONDS)
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=15_000)
    assert player(page, "audio.currentTime") < 1.5  # from the first word
    page.wait_for_function("window.pastTwoSecondsAt !== undefined", timeout=15_000)
    page.screenshot(path=OUTPUT / "page-playing.png")

    page.wait_for_function("document.body.dataset.state === 'done'", timeout=30_000)
    # Playback passed 2 s while the session was still generating, or within a few seconds of its end.
    past_two, done_at = page.evaluate("[window.pastTwoSecondsAt, window.audiostream.doneAt]")
    assert past_two - done_at < 5_000
    assert page.eval_on_selector("#progress", "bar => bar.value") == 100
    assert page.text_content("#progress-text") == "100 %"
    status = page.text_content("#status")
    assert status.startswith("Done: ") and status.endswith(" s of audio.")
    assert page.get_attribute("#start", "aria-disabled") == "false"
    chunks = page.text_content("#chunks")
    assert chunks.split(" of ")[0] == chunks.split(" of ")[1]
    assert page.text_content("#first-sound").endswith(" s")
    assert page.text_content("#spoken-by") == "espeak · default voice"
    assert player(page, "audio.error") is None and not player(page, "audio.paused")
    assert page.evaluate("window.audiostream.fatalPlayerErrors") == [] and page.script_errors == []
    # Once the closed playlist is loaded, the player knows the whole length.
    generated = float(page.text_content("#audio-seconds").removesuffix(" s"))
    page.wait_for_function(f"Math.abs(document.getElementById('player').duration - {generated}) < 0.5", timeout=10_000)
    page.screenshot(path=OUTPUT / "page-done.png")


def test_an_empty_prompt_shows_the_servers_error_and_the_page_stays_usable(page):
    page.fill("#prompt", "   ")
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert page.text_content("#status") == "prompt (or text) is required and must not be blank"
    assert page.get_attribute("#status", "class") == "status error"
    assert page.evaluate("document.activeElement.id") == "prompt"  # focus back where the fix goes
    assert player(page, "audio.error") is None and player(page, "audio.currentSrc") == ""
    assert page.evaluate("window.audiostream.fatalPlayerErrors") == []
    page.screenshot(path=OUTPUT / "page-empty-prompt.png")

    # The Start button works again: a real text now plays.
    page.fill("#prompt", SHORT_TEXT)
    page.keyboard.press("Control+Enter")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=15_000)
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=15_000)
    assert page.script_errors == []


def test_starting_again_while_playing_drops_the_old_stream(page):
    page.fill("#prompt", read_text("three_paragraphs.txt"))
    page.click("#start")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=15_000)
    first = page.evaluate("window.audiostream.sessionId")
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function(f"window.audiostream.sessionId !== '{first}'")
    restarted_at = page.evaluate("performance.now()")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=15_000)
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=15_000)
    page.wait_for_timeout(2_500)  # past a live playlist reload of the old stream, had it survived
    late = page.evaluate(
        f"""performance.getEntriesByType('resource')
              .filter(entry => entry.name.includes('{first}') && entry.startTime > {restarted_at} + 100)
              .map(entry => entry.name)"""
    )
    assert late == []
    assert page.text_content("#status").startswith("Done: ")
    assert page.evaluate("window.audiostream.fatalPlayerErrors") == [] and page.script_errors == []


def test_a_session_the_server_no_longer_knows_ends_the_wait(page):
    page.route(
        "**/audiostream/task-status/**",
        lambda route: route.fulfill(status=404, json={"error": "no task with this id", "field": "task_id"}),
    )
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert page.text_content("#status") == "no task with this id"
    assert page.get_attribute("#start", "aria-disabled") == "false"


def test_a_throttled_status_poll_is_asked_again_and_the_session_still_ends_done(page):
    refused = []

    def throttle_twice(route):
        if len(refused) < 2:
            refused.append(route.request.url)
            route.fulfill(status=429, headers={"Retry-After": "1"}, json={"error": "too many requests"})
        else:
            route.continue_()

    page.route("**/audiostream/task-status/**", throttle_twice)
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=60_000)
    assert len(refused) == 2 and page.text_content("#status").startswith("Done:")


def test_a_failure_shows_the_servers_reason(page):
    def failed(route):
        task_id = route.request.url.rstrip("/").rsplit("/", 1)[1]
        route.fulfill(
            json={
                "task_id": task_id,
                "state": "FAILURE",
                "status": "Task failed: x",
                "error": "speech synthesis failed on chunk 1 of 1: the engine answered 500",
                "playlist": f"/media/hls/{task_id}/audio.m3u8",
                "event": "chunk",
                "chunk_count": 0,
                "chunks_total": 1,
                "segments": 0,
                "duration": 0.0,
                "progress": 0,
            }
        )

    page.route("**/audiostream/task-status/**", failed)
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert page.text_content("#status") == "Failed: speech synthesis failed on chunk 1 of 1: the engine answered 500."
    assert page.get_attribute("#start", "aria-disabled") == "false"
    page.screenshot(path=OUTPUT / "page-failure.png")


def test_a_text_over_the_limit_shows_the_servers_error(page):
    page.fill("#prompt", "a" * 5001)
    assert page.text_content("#counter") == "5001 / 5000"
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert page.text_content("#status") == "prompt is 5001 characters long; the limit is 5000"


def test_the_pickers_follow_the_engine(page):
    engines = page.eval_on_selector_all("#engine option", "options => options.map(o => o.value)")
    assert engines == ["", "espeak", "gtts", "hibari"] and page.input_value("#engine") == ""
    assert page.input_value("#lang") == "en"
    # "Best for the language" names the engine the server picks: the neural voice for English.
    assert page.text_content("#engine option[value='']") == "Best for the language (hibari)"
    page.select_option("#lang", "fr")
    assert page.text_content("#engine option[value='']") == "Best for the language (espeak)"
    every_language = page.eval_on_selector_all("#lang option", "options => options.length")
    page.select_option("#engine", "espeak")
    assert page.input_value("#lang") == "fr"  # kept, as espeak-ng speaks it
    espeak_languages = page.eval_on_selector_all("#lang option", "options => options.length")
    assert espeak_languages <= every_language
    page.select_option("#engine", "gtts")
    assert page.eval_on_selector_all("#lang option", "options => options.length") != espeak_languages
    assert "co.uk" in page.eval_on_selector_all("#voice option", "options => options.map(o => o.value)")
    page.select_option("#engine", "hibari")
    assert page.input_value("#lang") == "en"  # French is not hibari's: the default language instead
    assert page.eval_on_selector_all("#voice option", "options => options.map(o => o.value)") == ["", "heart"]


def test_the_english_sample_is_spoken_by_the_neural_voice_and_the_page_says_so(page):
    page.click("#start")  # the sample text, every picker as the page opens
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=15_000)
    assert page.text_content("#spoken-by") == "hibari · heart"
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=30_000)
    assert page.text_content("#spoken-by") == "hibari · heart"
    assert player(page, "audio.error") is None and page.script_errors == []
    page.screenshot(path=OUTPUT / "page-neural-voice.png")


def test_keyboard_only_use_reaches_every_control_with_labels(page):
    order = []
    page.focus("#prompt")
    for _ in range(5):
        order.append(page.evaluate("document.activeElement.id"))
        page.keyboard.press("Tab")
    assert order == ["prompt", "engine", "lang", "voice", "start"]
    for control in ("prompt", "engine", "lang", "voice", "progress"):
        assert page.eval_on_selector(f"label[for={control}]", "label => label.textContent.trim()")
    assert page.get_attribute("#status", "role") == "status"
    assert page.get_attribute("#status", "aria-live") == "polite"


def test_time_from_click_to_first_sound_step_by_step(page, local_stack):
    """Where the time goes, recorded for the README (the figures are `make bench`'s); asserted: the
    steps happen in their order, and the player asks for the audio playlist only once the status has
    named a segment (asked earlier, it would be empty)."""
    runs = []
    for run in range(5):
        # Words of its own each time: the same words again would be a content-cache hit.
        runs.append(click_to_sound(page, local_stack.url, f"{SHORT_TEXT} Run {run} of {secrets.token_hex(3)}."))
    for steps in runs:
        assert list(steps) == list(STEPS), steps  # every step was seen
        assert steps["startAnswered"] <= steps["firstSegmentListed"] <= steps["statusNamedASegment"], steps
        assert steps["statusNamedASegment"] <= steps["audioPlaylistLoaded"] <= steps["initLoaded"], steps
        assert (
            steps["initLoaded"] <= steps["firstSegmentLoaded"] <= steps["firstSegmentBuffered"] <= steps["playing"]
        ), steps
    assert page.evaluate("window.audiostream.fatalPlayerErrors") == [] and page.script_errors == []
    (OUTPUT / "first-sound.json").write_text(json.dumps({"runs": runs, "medians_ms": medians(runs)}, indent=2))


SEED_CLIENT = """async (text) => {
  // The seed's frontend, as its documentation shows it: the player starts from the start answer's
  // playlist at once, with the seed's hls.js settings, and the status is polled every second.
  const audio = document.createElement('audio');
  document.body.append(audio);
  const seen = { fatal: [], fragments: [], firstPlayingAt: null, states: [] };
  window.seed = seen;
  const response = await fetch('/audiostream/start/', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: text, lang: 'en' }),
  });
  const { task_id, playlist } = await response.json();
  const hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 3, maxBufferLength: 10,
                        startFragPrefetch: true, manifestLoadingMaxRetry: 8 });
  hls.on(Hls.Events.ERROR, (event, data) => { if (data.fatal) seen.fatal.push(data.details); });
  hls.on(Hls.Events.FRAG_LOADED, (event, data) => seen.fragments.push(data.frag.sn));
  audio.addEventListener('playing', () => { seen.firstPlayingAt ??= audio.currentTime; });
  hls.loadSource(playlist);
  hls.attachMedia(audio);
  audio.play().catch(() => {});
  const checkStatus = async () => {
    const data = await (await fetch(`/audiostream/task-status/${task_id}/`)).json();
    seen.states.push(data.state);
    if (data.state === 'PENDING' || data.state === 'PROGRESS') setTimeout(checkStatus, 1000);
  };
  checkStatus();
  seen.audio = audio;
}"""


def test_the_seeds_own_client_plays_from_the_beginning_without_a_fatal_error(page):
    page.evaluate(SEED_CLIENT, read_text("three_paragraphs.txt"))
    page.wait_for_function("window.seed.audio.currentTime > 2", timeout=20_000)
    seen = page.evaluate("({ ...window.seed, audio: undefined })")
    assert seen["fatal"] == []
    assert seen["fragments"][0] == 0  # the first segment, not the live edge
    assert seen["firstPlayingAt"] < 0.5
    page.wait_for_function("window.seed.states.at(-1) === 'SUCCESS'", timeout=20_000)
    assert page.evaluate("window.seed.fatal") == []


def test_without_hls_js_the_browsers_own_hls_player_is_used(browser, local_stack):
    """The Safari/iOS branch: this chromium plays HLS natively too, so hiding hls.js exercises it."""
    context = browser.new_context()
    context.add_init_script("Object.defineProperty(window, 'Hls', { value: undefined, writable: false })")
    page = context.new_page()
    page.goto(local_stack.url + "/")
    page.wait_for_function("document.getElementById('lang').options.length > 1")
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=20_000)
    assert player(page, "audio.currentSrc").endswith("/master.m3u8")
    assert player(page, "audio.currentTime") < 1.5
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)
    page.wait_for_function("document.getElementById('player').currentTime > 2", timeout=20_000)
    context.close()


def test_a_refusal_for_too_many_requests_says_when_to_try_again(page):
    page.route(
        "**/audiostream/start/",
        lambda route: route.fulfill(status=429, headers={"Retry-After": "7"}, json={"message": "Too Many Requests"}),
    )
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'error'")
    assert page.text_content("#status") == "Too Many Requests: try again in 7 s."
    assert page.get_attribute("#start", "aria-disabled") == "false"


# Read along ---------------------------------------------------------------------------------------

READ_ALONG = """() => {
  const audio = document.getElementById('player');
  const track = [...audio.textTracks].find((t) => t.kind === 'subtitles');
  const active = track ? [...(track.activeCues || [])] : [];
  return {
    time: audio.currentTime,
    mode: track ? track.mode : null,
    track: window.audiostream.captionTrack,
    active: active.map((cue) => ({ id: cue.id, start: cue.startTime, end: cue.endTime,
                                   text: cue.text.replace(/<[^>]*>/g, '') })),
    caption: document.getElementById('caption').textContent,
    transcript: [...document.querySelectorAll('#transcript button')].map((b) => ({
      cue: b.dataset.cue, start: Number(b.dataset.start), text: b.lastChild.textContent,
      current: b.getAttribute('aria-current') === 'true' })),
  };
}"""


def first_success_seen(url: str, found: dict) -> None:
    """Polls the status every 20 ms from outside the page: when SUCCESS was first seen (epoch ms)."""
    with requests.Session() as http:
        while True:
            if http.get(url, timeout=10).json()["state"] in ("SUCCESS", "FAILURE"):
                found["ended_at"] = time.time() * 1000
                return
            time.sleep(0.02)


def test_captions_arrive_while_generating_and_the_caption_line_follows_the_voice(page, local_stack):
    # Five minutes of speech, made in a few seconds: long enough to see captions before it is all made.
    # Words of its own each run: the same words again would be a content-cache hit, ended at once.
    text = read_text("three_paragraphs.txt") * 5 + f" ({secrets.token_hex(3)})"
    page.fill("#prompt", text)
    page.click("#start")
    page.wait_for_function("window.audiostream.sessionId !== null", timeout=15_000)
    session_id = page.evaluate("window.audiostream.sessionId")
    found: dict = {}
    poller = threading.Thread(
        target=first_success_seen, args=(f"{local_stack.url}/audiostream/task-status/{session_id}/", found)
    )
    poller.start()

    page.wait_for_function("window.audiostream.firstCueAt !== null", timeout=15_000)
    # Three sentences heard, each shown as it began.
    page.wait_for_function(
        "new Set(window.audiostream.cueChanges.flatMap((change) => change.ids)).size >= 3", timeout=30_000
    )
    seen = page.evaluate(READ_ALONG)
    page.screenshot(path=OUTPUT / "page-captions.png")
    poller.join(timeout=60)

    # The subtitle track of master.m3u8, found and selected (hls.js turns a disabled track's cues away).
    assert seen["track"] == {"label": "English", "language": "en", "kind": "subtitles"}
    assert seen["mode"] in ("showing", "hidden")
    # Cues were in the page before the session had finished generating.
    assert page.evaluate("window.audiostream.firstCueAt") < found["ended_at"]

    # cuechange fired in order: each sentence became active after the one before, none skipped,
    # each while the player was inside that sentence's cue.
    changes = page.evaluate("window.audiostream.cueChanges")
    newly_active = []
    for change in changes:
        for cue_id in change["ids"]:
            if cue_id not in newly_active:
                newly_active.append(cue_id)
    assert newly_active == [str(number) for number in range(len(newly_active))]
    cues = {item["cue"]: item for item in seen["transcript"]}
    for number, cue_id in enumerate(newly_active[1:], start=1):
        change = next(change for change in changes if cue_id in change["ids"])
        assert cues[cue_id]["start"] - 0.3 <= change["at"] <= cues[cue_id]["start"] + 0.5, (number, change)

    # The caption line shows the sentence being spoken, and the transcript marks it.
    (active,) = seen["active"] or [None]
    assert active is not None and seen["caption"] == active["text"]
    assert active["start"] <= seen["time"] <= active["end"]
    assert [item["cue"] for item in seen["transcript"] if item["current"]] == [active["id"]]
    listed = [item["text"] for item in seen["transcript"]]
    assert len(listed) >= 3 and listed == split_into_sentences(text)[: len(listed)]
    assert not page.script_errors


def test_a_transcript_sentence_seeks_there_and_captions_can_be_turned_off(page, local_stack):
    page.fill("#prompt", read_text("three_paragraphs.txt"))
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=30_000)
    session_id = page.evaluate("window.audiostream.sessionId")
    # Where the status says (the words may have been served from the content cache: another's files).
    status = requests.get(f"{local_stack.url}/audiostream/task-status/{session_id}/", timeout=10).json()
    transcript = requests.get(local_stack.url + status["transcript"], timeout=10).json()
    # Once the session has ended, the whole transcript is listed, as transcript.json has it.
    page.wait_for_function(
        f"document.querySelectorAll('#transcript button').length === {len(transcript['sentences'])}", timeout=10_000
    )
    target = transcript["sentences"][4]
    page.click("#transcript button[data-cue='4']")
    page.wait_for_function(
        f"document.getElementById('caption').textContent === {json.dumps(target['text'])}", timeout=10_000
    )
    seen = page.evaluate(READ_ALONG)
    assert target["start"] <= seen["time"] <= target["end"]
    assert [item["cue"] for item in seen["transcript"] if item["current"]] == ["4"]
    assert page.evaluate("window.audiostream.seeks.map((seek) => seek.to)") == [target["start"]]

    # The caption line goes and comes back; the choice outlives a reload.
    assert page.is_visible("#caption-box")
    page.uncheck("#captions-on")
    assert not page.is_visible("#caption-box")
    page.reload()
    page.wait_for_function("document.getElementById('lang').options.length > 1")
    assert not page.is_checked("#captions-on") and not page.is_visible("#caption-box")
    page.check("#captions-on")
    assert page.is_visible("#caption-box")
    assert not page.script_errors


# Stop ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory):
    """The local stack whose espeak-ng takes half a second more a chunk, as a remote engine may: a
    long text is still being made seconds after its first sound."""
    folder = tmp_path_factory.mktemp("slow-stack")
    slow = folder / "espeak-ng"
    slow.write_text('#!/bin/sh\nsleep 0.5\nexec espeak-ng "$@"\n')
    slow.chmod(0o755)
    page = fresh_page(tmp_path_factory.mktemp("web"))
    stack = start_local_stack(folder / "stack.log", WEB_DIR=str(page), ESPEAK_PATH=str(slow), TTS_ENGINE="espeak")
    yield stack
    stop_local_stack(stack)


def test_stop_ends_the_session_and_what_was_made_plays_on(browser, slow_stack):
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(slow_stack.url + "/")
    page.wait_for_function("document.getElementById('lang').options.length > 1")
    page.fill("#prompt", read_text("three_paragraphs.txt") * 4)
    assert not page.is_visible("#stop")  # only while a session is generating
    page.click("#start")
    page.wait_for_function("window.audiostream.firstSoundMs !== null", timeout=20_000)
    assert page.is_visible("#stop")
    page.click("#stop")
    page.wait_for_function("document.body.dataset.state === 'stopped'", timeout=10_000)
    assert page.text_content("#status").startswith("Stopped: the ")
    assert not page.is_visible("#stop") and page.get_attribute("#start", "aria-disabled") == "false"

    session_id = page.evaluate("window.audiostream.sessionId")
    status = requests.get(f"{slow_stack.url}/audiostream/task-status/{session_id}/", timeout=10).json()
    assert status["state"] == "REVOKED" and status["status"] == "Task was revoked"
    # generate closes the playlist within a second of the cancel (tests/test_cancel.py times it).
    deadline = time.monotonic() + 3
    while "#EXT-X-ENDLIST" not in requests.get(f"{slow_stack.url}/media/hls/{session_id}/audio.m3u8", timeout=10).text:
        assert time.monotonic() < deadline, "the playlist was not closed after the cancel"
        time.sleep(0.1)
    # The player goes on with what was made.
    before = player(page, "audio.currentTime")
    page.wait_for_function(f"document.getElementById('player').currentTime > {before + 1}", timeout=10_000)
    page.screenshot(path=OUTPUT / "page-stopped.png")
    assert not errors
    context.close()


def test_a_finished_session_offers_its_file_which_a_browser_plays(page, local_stack):
    page.fill("#prompt", SHORT_TEXT)
    page.click("#start")
    page.wait_for_function("document.body.dataset.state === 'done'", timeout=20_000)
    assert page.is_visible("#download")
    href = page.get_attribute("#download", "href")
    session_id = page.evaluate("window.audiostream.sessionId")
    status = requests.get(f"{local_stack.url}/audiostream/task-status/{session_id}/", timeout=10).json()
    assert href == status["download"] and href.endswith("/audio.m4a")
    answer = requests.get(local_stack.url + href, timeout=10)
    assert answer.headers["Content-Type"] == "audio/mp4"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    # The file plays in the browser on its own, without hls.js, to its end.
    page.evaluate("""(src) => { const audio = new Audio(src); window.kept = audio; audio.play(); }""", href)
    page.wait_for_function("window.kept.ended === true", timeout=20_000)
    assert page.evaluate("window.kept.duration") > 3
