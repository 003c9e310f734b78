// @ts-check
// One session as the page follows it, from the start answer until the next Start: its status polls,
// its player, its caption track, and everything they registered or scheduled, which destroy() ends.
// Longer than the page's other modules (about 350 lines) on purpose: whatever a session registers or
// schedules is owned here, so that destroy() can end all of it.

import { ENDED, getTranscript, postCancel } from "./api.js";
import { clearCaption, findCaptionTrack, markSaidWords, plainText, showCaption } from "./captions.js";
import { setBusy } from "./controls.js";
import { observed } from "./observations.js";
import { Player } from "./player.js";
import { lookAtStatus, nextLookMs, POLL_MS } from "./status-poll.js";
import { Timers } from "./timers.js";
import { addSentence, markSpoken } from "./transcript.js";
import { offerDownload, showFacts, showFirstSound, showStatus, view } from "./view.js";

/** @typedef {import("./api.js").StartAnswer} StartAnswer */
/** @typedef {import("./api.js").Status} Status */

export class PlaybackSession {
  /** @type {string} the session's id (also its task id) */
  id;
  /** @type {string} */
  #statusUrl;
  /** @type {string} the multivariant playlist (it carries the captions), or the audio's on a server without them */
  #playlist;
  /** @type {number} when Start was clicked, on the page's clock (performance.now()) */
  #clickedAt;
  /** the status said the session has ended (or that the server no longer knows it) */
  #ended = false;
  /** the status has named a segment, or an end */
  #segmentSeen = false;
  /** the player gave up; its message stays in view */
  #playerFailed = false;
  /** destroy() was called: nothing of this session may touch the page any more */
  #destroyed = false;

  /** @type {Promise<void>} kept once the status names a first segment or an end: the player's audio playlist waits for it */
  #listed;
  /** @type {() => void} keeps `#listed` */
  #nameListed = () => {};

  /** aborted by destroy(): removes every listener registered with its signal, stops the fetches and waits made with it */
  #lifetime = new AbortController();
  /** every timeout and animation frame pending on the session's behalf */
  #timers = new Timers();
  /** @type {number | undefined} the next status poll */
  #pollTimer;
  /** @type {number | undefined} the wait for a chosen sentence to be reachable */
  #seekTimer;
  /** @type {number | undefined} the caption line's next marking of the words said */
  #wordsFrame;
  /** @type {PerformanceObserver | null} notes when init.mp4 is in (hls.js loads it without an event of its own) */
  #resources = null;

  /** @type {Player | null} made at the start answer with hls.js, once the status names a segment without it */
  #player = null;
  /** @type {TextTrack | null} the stream's captions, once the player has added them to the element */
  #track = null;

  /**
   * @param {StartAnswer} answer
   * @param {number} clickedAt when Start was clicked (performance.now())
   */
  constructor(answer, clickedAt) {
    this.id = answer.session_id;
    this.#statusUrl = answer.status_url;
    this.#playlist = answer.master || answer.playlist;
    this.#clickedAt = clickedAt;
    this.#listed = new Promise((resolve) => {
      this.#nameListed = resolve;
    });
    if (window.PerformanceObserver) {
      this.#resources = new PerformanceObserver((entries) => {
        for (const entry of entries.getEntries()) {
          const { responseEnd } = /** @type {PerformanceResourceTiming} */ (entry);
          if (entry.name.endsWith(`/${this.id}/init.mp4`)) this.noteStep("initLoaded", responseEnd);
        }
      });
      this.#resources.observe({ type: "resource" });
    }
  }

  /** Ends everything the session started: listeners, timers, frames, fetches, the player and its track. */
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#lifetime.abort();
    this.#timers.cancelAll();
    this.#resources?.disconnect();
    this.#player?.destroy();
    view.player.removeAttribute("src");
    view.player.load();
    this.#forgetTrack();
  }

  /**
   * The first time a step is done (`at`, on the page's clock: now), in milliseconds after the click.
   * @param {string} name
   * @param {number} [at]
   */
  noteStep(name, at = performance.now()) {
    if (this.#destroyed || name in observed.steps) return;
    observed.steps[name] = Math.round(at - this.#clickedAt);
  }

  // ---------------------------------------------------------------- the player

  /** Makes the player and starts it (with hls.js at the start answer; else once a segment is named). */
  startPlayer() {
    const audio = view.player;
    const signal = this.#lifetime.signal;
    this.#player = new Player({
      audio,
      playlist: this.#playlist,
      listed: this.#listed,
      signal,
      timers: this.#timers,
      hooks: {
        step: (name) => this.noteStep(name),
        subtitlesProcessed: () => this.#syncTranscript(),
        failed: (message, fatalError) => {
          if (fatalError) observed.fatalPlayerErrors.push(fatalError);
          this.#onPlayerFailed(message);
        },
      },
    });
    audio.addEventListener("playing", () => this.#onFirstSound(), { once: true, signal });
    audio.addEventListener("playing", () => this.#describePlayback(), { signal });
    audio.addEventListener("pause", () => this.#describePlayback(), { signal });
    audio.addEventListener("waiting", () => this.#describePlayback(), { signal });
    this.#followCaptions();
    if (!this.#player.start()) return;
    audio.play().catch(() => {
      if (!this.#destroyed) showStatus("Ready to play: press play on the player.", "playing");
    });
  }

  /** @param {string} message */
  #onPlayerFailed(message) {
    this.#playerFailed = true;
    showStatus(message, "error");
    if (this.#ended) setBusy(false);
  }

  #onFirstSound() {
    if (this.#destroyed) return;
    const elapsed = performance.now() - this.#clickedAt;
    this.noteStep("playing");
    observed.firstSoundMs = Math.round(elapsed);
    showFirstSound(elapsed);
  }

  /** What the listener hears, while the session is still being made (afterwards the outcome is shown). */
  #describePlayback() {
    if (this.#destroyed || this.#ended || this.#playerFailed || !this.#segmentSeen) return;
    if (view.player.paused) showStatus("Paused; the rest is still being generated.", "loading");
    else if (view.player.readyState < 3) showStatus("Buffering…", "loading");
    else showStatus("Playing while the rest is generated…", "playing");
  }

  /**
   * The player knows a growing stream only as far as the playlist it last loaded, and clamps a seek
   * beyond that to its end: a sentence further on is sought once the player knows it is there.
   * @param {number} seconds
   */
  seekTo(seconds) {
    const audio = view.player;
    observed.seeks.push({ from: audio.currentTime, to: seconds });
    this.#timers.cancel(this.#seekTimer);
    const reachable = () => audio.seekable.length > 0 && audio.seekable.end(audio.seekable.length - 1) >= seconds;
    const go = () => {
      if (this.#destroyed) return;
      if (!reachable()) {
        this.#seekTimer = this.#timers.later(go, 100);
        return;
      }
      audio.currentTime = seconds + 0.01; // inside the sentence's cue, not on the previous one's end
      if (audio.paused) audio.play().catch(() => {});
    };
    go();
  }

  // ---------------------------------------------------------------- reading along

  /** Follows the stream's caption track once the player adds it to the element. */
  #followCaptions() {
    const tracks = view.player.textTracks;
    const signal = this.#lifetime.signal;
    const attach = () => {
      const track = findCaptionTrack(tracks);
      if (!track || this.#track === track) return;
      this.#track = track;
      if (track.mode === "disabled") track.mode = "hidden"; // Safari leaves it off; hls.js turns it on
      track.addEventListener("cuechange", () => this.#onCueChange(), { signal });
      observed.captionTrack = { label: track.label, language: track.language, kind: track.kind };
    };
    tracks.addEventListener("addtrack", attach, { signal });
    tracks.addEventListener("change", attach, { signal });
    view.player.addEventListener("timeupdate", () => this.#syncTranscript(), { signal });
    attach();
  }

  /** Lets go of the caption track, its cues removed (hls.js reuses the track for the next session). */
  #forgetTrack() {
    const track = this.#track;
    this.#track = null;
    if (!track?.cues) return;
    try {
      for (const cue of [...track.cues]) track.removeCue(cue);
    } catch {
      // A track the browser's own player made goes with the media it came from.
    }
  }

  #onCueChange() {
    const track = this.#track;
    if (this.#destroyed || !track) return;
    const active = /** @type {VTTCue[]} */ ([...(track.activeCues || [])]);
    observed.cueChanges.push({ ids: active.map((cue) => cue.id), at: view.player.currentTime });
    const cue = active.at(-1);
    this.#showCaption(track, cue);
    this.#syncTranscript();
    markSpoken(cue ? Number(cue.id) : null);
  }

  /**
   * The cue being spoken on the caption line; with the words' times known, the words said so far
   * are marked as they are said.
   * @param {TextTrack} track
   * @param {VTTCue | undefined} cue
   */
  #showCaption(track, cue) {
    this.#timers.cancelFrame(this.#wordsFrame);
    if (!cue) {
      clearCaption();
      return;
    }
    if (!showCaption(cue, track.language || document.documentElement.lang)) return;
    const mark = () => {
      markSaidWords(view.player.currentTime);
      if (!view.player.paused) this.#wordsFrame = this.#timers.frame(mark);
    };
    mark();
  }

  /** Every cue the track holds, listed in the transcript. */
  #syncTranscript() {
    const cues = this.#track?.cues;
    if (this.#destroyed || !cues) return;
    for (const cue of /** @type {VTTCue[]} */ ([...cues])) addSentence(cue.id, cue.startTime, plainText(cue));
    if (cues.length && observed.firstCueAt === null) observed.firstCueAt = Date.now();
  }

  /**
   * The whole transcript once the session has ended (transcript.json: every sentence).
   * @param {string | undefined} url
   */
  async #loadTranscript(url) {
    if (!url) return;
    try {
      const transcript = await getTranscript(url);
      if (!transcript || this.#destroyed) return;
      transcript.sentences.forEach((sentence, number) => addSentence(String(number), sentence.start, sentence.text));
    } catch {
      // The captions in the stream still fill the list as it plays.
    }
  }

  // ---------------------------------------------------------------- following the status

  /** Asks for the status now, and again until the session ends. */
  async follow() {
    if (this.#ended) return;
    this.#timers.cancel(this.#pollTimer);
    const look = await lookAtStatus(this.#statusUrl, this.#lifetime.signal);
    if (this.#destroyed) return;
    if (look.kind === "unreachable") {
      showStatus(`Lost touch with the server (${look.error.message}); retrying…`, "loading");
      this.#pollTimer = this.#timers.later(() => this.follow(), POLL_MS);
      return;
    }
    if (look.kind === "busy") {
      showStatus("The server is busy; still following the session…", "loading");
      this.#pollTimer = this.#timers.later(() => this.follow(), look.waitMs);
      return;
    }
    if (look.kind === "gone") {
      this.#ended = true;
      showStatus(look.message, "error");
      setBusy(false);
      return;
    }
    const { status } = look;
    showFacts(status);

    const ended = ENDED.has(status.state);
    if (/** @type {number} */ (status.segments) > 0 || ended) {
      this.noteStep("statusNamedASegment");
      this.#segmentSeen = true;
      this.#nameListed();
      if (!this.#player) this.startPlayer(); // the browser's own player (no hls.js) starts here
    }

    if (ended) {
      this.#end(status);
      return;
    }
    if (status.state === "PENDING") showStatus("Waiting for a free generator…", "loading");
    else if (!this.#segmentSeen) showStatus("Generating speech…", "loading");
    this.#pollTimer = this.#timers.later(() => this.follow(), nextLookMs(this.#segmentSeen));
  }

  /** @param {Status} status an ended session's */
  #end(status) {
    this.#ended = true;
    setBusy(false);
    if (this.#playerFailed) return; // keep the player's own error in view
    this.#loadTranscript(status.transcript);
    const duration = /** @type {number} */ (status.duration);
    if (status.state === "SUCCESS") {
      observed.doneAt = performance.now();
      showStatus(`Done: ${duration.toFixed(1)} s of audio.`, "done");
      if (status.download) offerDownload(status.download); // a file to keep: one MP4, served as an attachment
    } else if (status.state === "REVOKED") {
      showStatus(`Stopped: the ${duration.toFixed(1)} s made before it stay playable.`, "stopped");
    } else {
      const kept = duration > 0 ? ` The ${duration.toFixed(1)} s made before it stay playable.` : "";
      showStatus(`Failed: ${status.error}.${kept}`, "error");
    }
  }

  /**
   * Stop asks the server to cancel the session: it becomes REVOKED at once, and generation stops
   * within a second, its playlist closed over what was made (which the player goes on playing).
   */
  async stop() {
    if (this.#ended) return;
    view.stop.disabled = true;
    showStatus("Stopping…", "loading");
    try {
      const { response, answer } = await postCancel(this.id);
      if (this.#destroyed) return;
      if (!response.ok && response.status !== 409) {
        view.stop.disabled = false;
        showStatus(answer.error || `Could not stop: the server answered HTTP ${response.status}.`, "error");
        return;
      }
    } catch (error) {
      if (this.#destroyed) return;
      view.stop.disabled = false;
      showStatus(`Could not stop: ${/** @type {Error} */ (error).message}.`, "error");
      return;
    }
    this.#timers.cancel(this.#pollTimer);
    this.follow(); // the status says how much was made, and ends the wait
  }
}
