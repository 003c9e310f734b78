"use strict";

// The audiostream demo page: start a session, follow its status, play its HLS stream as it grows,
// and read along: the sentence being spoken (from the stream's own WebVTT captions), and the
// transcript, whose sentences seek when chosen.
// Served from the same origin as the API and the media (CloudFront in AWS, `make run` locally),
// so every URL here is relative.

const API = {
  start: "/audiostream/start/",
  engines: "/audiostream/engines/",
  cancel: (id) => `/audiostream/cancel/${id}/`,
};
const ENDED = new Set(["SUCCESS", "FAILURE", "REVOKED"]);
const POLL_UNTIL_FIRST_SEGMENT_MS = 100; // until the status names the first segment (usually within ~0.2 s)
const POLL_MS = 1000;
const MAX_PLAYER_RECOVERIES = 5;
const NATIVE_RETRIES = 15;

// hls.js, tuned for an EVENT playlist that starts empty and grows faster than real time.
const HLS_CONFIG = {
  startPosition: 0, // from the first word, not the live edge
  maxBufferLength: 8,
  maxMaxBufferLength: 20,
  backBufferLength: 30,
  playlistLoadPolicy: retryPolicy(15),
  manifestLoadPolicy: retryPolicy(15),
  fragLoadPolicy: retryPolicy(8),
};

function retryPolicy(maxNumRetry) {
  return {
    default: {
      maxTimeToFirstByteMs: 8000,
      maxLoadTimeMs: 20000,
      timeoutRetry: { maxNumRetry: 4, retryDelayMs: 250, maxRetryDelayMs: 2000 },
      errorRetry: { maxNumRetry, retryDelayMs: 250, maxRetryDelayMs: 4000 },
    },
  };
}

const $ = (id) => document.getElementById(id);
const view = {
  form: $("request"),
  prompt: $("prompt"),
  counter: $("counter"),
  engine: $("engine"),
  lang: $("lang"),
  voice: $("voice"),
  start: $("start"),
  stop: $("stop"),
  status: $("status"),
  progress: $("progress"),
  progressText: $("progress-text"),
  player: $("player"),
  spokenBy: $("spoken-by"),
  firstSound: $("first-sound"),
  chunks: $("chunks"),
  audioSeconds: $("audio-seconds"),
  segments: $("segments"),
  download: $("download"),
  captionBox: $("caption-box"),
  caption: $("caption"),
  captionsOn: $("captions-on"),
  transcript: $("transcript"),
};

// What tests and curious users can read from the console.
window.audiostream = {
  firstSoundMs: null,
  // Where the time from the click to the first sound went: milliseconds after the click at which each
  // step was done (see noteStep), and the click itself on the wall clock (for outside observers).
  steps: {},
  clickedAtEpochMs: null,
  doneAt: null,
  sessionId: null,
  fatalPlayerErrors: [],
  state: "idle",
  // Read along: every cuechange (the ids then active and the playback time), and when cues arrived.
  cueChanges: [],
  firstCueAt: null,
  captionTrack: null,
  seeks: [],
};

let catalog = { engines: [], max_text_chars: 5000 };
// The session being followed: {id, statusUrl, playlist, clickedAt, player, ended, playerFailed,
// listed (a promise, kept once the status names a first segment or an end) and nameListed (keeps it),
// listeners (an AbortController for everything registered on its behalf), retryTimer}.
let current = null;

// ------------------------------------------------------------------ status line and facts

function showStatus(text, kind) {
  // The status line is a live region: rewriting the same words would make screen readers repeat them.
  if (view.status.textContent === text && window.audiostream.state === kind) return;
  view.status.textContent = text;
  view.status.className = `status ${kind}`;
  document.body.dataset.state = kind;
  window.audiostream.state = kind;
}

function setBusy(busy) {
  view.start.setAttribute("aria-disabled", String(busy));
  view.start.textContent = busy ? "Generating…" : "Start";
  view.stop.hidden = !busy;
  view.stop.disabled = false;
}

function showProgress(percent) {
  view.progress.value = percent;
  view.progress.textContent = `${percent} %`;
  view.progressText.textContent = `${percent} %`;
}

function showFacts(status) {
  if (status.engine) view.spokenBy.textContent = `${status.engine} · ${status.voice || "default voice"}`;
  if (status.chunk_count !== undefined) {
    view.chunks.textContent = status.chunks_total
      ? `${status.chunk_count} of ${status.chunks_total}`
      : String(status.chunk_count);
    view.audioSeconds.textContent = `${status.duration.toFixed(1)} s`;
    view.segments.textContent = String(status.segments);
  }
  if (status.progress !== undefined) showProgress(status.progress);
}

function resetFacts() {
  showProgress(0);
  view.download.hidden = true;
  view.download.removeAttribute("href");
  for (const fact of [view.spokenBy, view.firstSound, view.chunks, view.audioSeconds, view.segments]) {
    fact.textContent = "–";
  }
  window.audiostream.firstSoundMs = null;
}

function updateCounter() {
  const length = view.prompt.value.length;
  view.counter.textContent = `${length} / ${catalog.max_text_chars}`;
  view.counter.classList.toggle("over", length > catalog.max_text_chars);
}

// ------------------------------------------------------------------ engines, languages, voices

function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(({ value, label }) => {
      const option = new Option(label, value);
      option.selected = value === selected;
      return option;
    }),
  );
}

// The engine the server picks for a language when the request names none.
function defaultEngineFor(lang) {
  return catalog.engines.find((engine) => engine.default_for?.includes(lang))?.name;
}

// "Best for the language" offers every engine's languages; a chosen engine, only its own.
function languagesOffered(engine) {
  if (engine) return engine.languages;
  const byCode = new Map();
  for (const candidate of catalog.engines) {
    for (const language of candidate.languages) if (!byCode.has(language.code)) byCode.set(language.code, language);
  }
  return [...byCode.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function fillLanguagesAndVoices() {
  const engine = catalog.engines.find((candidate) => candidate.name === view.engine.value);
  if (view.engine.value && !engine) return;
  const previous = view.lang.value || catalog.default_lang;
  const languages = languagesOffered(engine);
  const codes = languages.map((language) => language.code);
  fillSelect(
    view.lang,
    languages.map((language) => ({ value: language.code, label: `${language.name} (${language.code})` })),
    codes.includes(previous) ? previous : codes.includes(catalog.default_lang) ? catalog.default_lang : codes[0],
  );
  const voices = engine ? engine.voices : [];
  fillSelect(view.voice, [{ value: "", label: "Default" }, ...voices.map((v) => ({ value: v, label: v }))], "");
  nameTheAutomaticEngine();
}

function nameTheAutomaticEngine() {
  const automatic = view.engine.options[0];
  if (!automatic || automatic.value !== "") return;
  const picked = defaultEngineFor(view.lang.value);
  automatic.textContent = picked ? `Best for the language (${picked})` : "Best for the language";
}

async function loadCatalog() {
  try {
    const response = await fetch(API.engines);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    catalog = await response.json();
  } catch (error) {
    showStatus(`Could not load the list of engines (${error.message}); the server's defaults will be used.`, "error");
    return;
  }
  fillSelect(
    view.engine,
    [{ value: "", label: "Best for the language" }, ...catalog.engines.map((e) => ({ value: e.name, label: e.name }))],
    "",
  );
  fillLanguagesAndVoices();
  updateCounter();
}

// ------------------------------------------------------------------ the player

function stopPlayer(session) {
  if (!session) return;
  session.listeners.abort();
  clearTimeout(session.retryTimer);
  clearTimeout(session.seekTimer);
  cancelAnimationFrame(session.wordsFrame);
  session.player?.hls?.destroy();
  view.player.removeAttribute("src");
  view.player.load();
}

function startPlayer(session) {
  const audio = view.player;
  const signal = session.listeners.signal;
  session.player = { recoveries: 0 };
  audio.addEventListener("playing", () => onFirstSound(session), { once: true, signal });
  audio.addEventListener("playing", () => describePlayback(session), { signal });
  audio.addEventListener("pause", () => describePlayback(session), { signal });
  audio.addEventListener("waiting", () => describePlayback(session), { signal });
  followCaptions(session);
  if (window.Hls && Hls.isSupported()) {
    let audioIsIn;
    const audioLoaded = new Promise((resolve) => {
      audioIsIn = resolve;
    });
    const hls = new Hls({ ...HLS_CONFIG, pLoader: playlistLoaderThatWaits(session.listed, audioLoaded) });
    hls.once(Hls.Events.LEVEL_LOADED, () => audioIsIn());
    session.player.hls = hls;
    noteStepsOfThePlayer(session, hls);
    hls.on(Hls.Events.ERROR, (_event, data) => onHlsError(session, data));
    hls.on(Hls.Events.FRAG_LOADED, () => {
      session.player.recoveries = 0; // the budget is for errors in a row, not over a whole story
    });
    hls.on(Hls.Events.SUBTITLE_FRAG_PROCESSED, () => syncTranscript(session));
    hls.loadSource(session.playlist);
    hls.attachMedia(audio);
  } else if (audio.canPlayType("application/vnd.apple.mpegurl")) {
    startNativePlayer(session); // Safari, iOS
  } else {
    playerFailed(session, "This browser cannot play HLS audio.");
    return;
  }
  audio.play().catch(() => {
    if (session === current) showStatus("Ready to play: press play on the player.", "playing");
  });
}

// The player is made as soon as the start is answered: the multivariant playlist is loaded and the
// media element attached while the first segment is being made. The audio playlist itself is asked
// for only once the status names a segment (`listed`): asked earlier, it would be empty, and hls.js
// would ask again only half a target duration (2 s) later; and in AWS, CloudFront keeps a playlist
// for a second, so an early empty answer would be served again.
// hls.js also sets aside a live subtitle playlist that arrives before the audio's (it cannot line the
// two up yet) and waits for its next reload, up to a target duration (4 s) later: the first captions
// would lag the voice by that much. So the captions' playlist is asked for only once the audio's is
// in, and once it names a segment. The waits are in hls.js's playlist-loader hook, pLoader.
function playlistLoaderThatWaits(listed, audioLoaded) {
  const Loader = Hls.DefaultConfig.loader;
  let captionsNamed = null; // kept once the subtitle playlist names a segment (or has ended)
  return class extends Loader {
    load(context, config, callbacks) {
      if (context.type === "level") {
        listed.then(() => this.aborted || super.load(context, config, callbacks));
        return;
      }
      if (context.type !== "subtitleTrack") {
        super.load(context, config, callbacks);
        return;
      }
      audioLoaded
        .then(() => captionsNamed ?? (captionsNamed = untilItNamesASegment(context.url)))
        .then(() => this.aborted || super.load(context, config, callbacks));
    }

    abort() {
      this.aborted = true;
      super.abort();
    }
  };
}

// The steps between the click and the first sound, as the player takes them.
function noteStepsOfThePlayer(session, hls) {
  hls.once(Hls.Events.MANIFEST_LOADED, () => noteStep(session, "multivariantPlaylistLoaded"));
  hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    if (data.details.fragments.length) noteStep(session, "audioPlaylistLoaded");
  });
  hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
    if (data.frag.sn === 0) noteStep(session, "firstSegmentLoaded");
  });
  hls.on(Hls.Events.FRAG_BUFFERED, (_event, data) => {
    if (data.frag.sn === 0) noteStep(session, "firstSegmentBuffered");
  });
}

// The subtitle playlist is written just after the audio's: asked for at once, it may still be empty,
// and hls.js would ask again only half a target duration (4 s) later, the captions that long behind
// the voice. So it is looked at every 250 ms (for at most 3 s) until it names a segment.
async function untilItNamesASegment(url) {
  for (let look = 0; look < 12; look += 1) {
    try {
      const text = await (await fetch(url, { cache: "no-store" })).text();
      if (text.includes("#EXTINF") || text.includes("#EXT-X-ENDLIST")) return;
    } catch {
      // hls.js's own load will meet the fault and retry it
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// The first time a step is done (`at`, on the page's clock: now), in milliseconds after the click.
function noteStep(session, name, at = performance.now()) {
  if (session !== current || name in window.audiostream.steps) return;
  window.audiostream.steps[name] = Math.round(at - session.clickedAt);
}

// hls.js loads the init segment without an event of its own: the browser's resource timing has it.
if (window.PerformanceObserver) {
  new PerformanceObserver((entries) => {
    for (const entry of entries.getEntries()) {
      if (current && entry.name.endsWith(`/${current.id}/init.mp4`)) noteStep(current, "initLoaded", entry.responseEnd);
    }
  }).observe({ type: "resource" });
}

function startNativePlayer(session) {
  const audio = view.player;
  let retries = 0;
  const retry = () => {
    if (session !== current) return;
    if (retries >= NATIVE_RETRIES) {
      playerFailed(session, "The player could not load the stream.");
      return;
    }
    retries += 1;
    const resumeAt = audio.currentTime;
    session.retryTimer = setTimeout(() => {
      if (session !== current) return;
      audio.src = session.playlist;
      audio.currentTime = resumeAt;
      audio.play().catch(() => {});
    }, Math.min(250 * 2 ** retries, 4000));
  };
  audio.addEventListener("error", retry, { signal: session.listeners.signal });
  audio.src = session.playlist;
}

function onHlsError(session, data) {
  if (!data.fatal || session !== current) return;
  const hls = session.player.hls;
  if (session.player.recoveries < MAX_PLAYER_RECOVERIES) {
    session.player.recoveries += 1;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else if (data.details.startsWith("manifest")) hls.loadSource(session.playlist); // no level to reload yet
    else hls.startLoad();
    return;
  }
  window.audiostream.fatalPlayerErrors.push(`${data.type}: ${data.details}`);
  playerFailed(session, `The player gave up: ${data.details}.`);
}

function playerFailed(session, message) {
  session.playerFailed = true;
  showStatus(message, "error");
  if (session.ended) setBusy(false);
}

function onFirstSound(session) {
  if (session !== current) return;
  const elapsed = performance.now() - session.clickedAt;
  noteStep(session, "playing");
  window.audiostream.firstSoundMs = Math.round(elapsed);
  view.firstSound.textContent = `${(elapsed / 1000).toFixed(2)} s`;
}

// What the listener hears, while the session is still being made (afterwards the outcome is shown).
function describePlayback(session) {
  if (session !== current || session.ended || session.playerFailed || !session.segmentSeen) return;
  if (view.player.paused) showStatus("Paused; the rest is still being generated.", "loading");
  else if (view.player.readyState < 3) showStatus("Buffering…", "loading");
  else showStatus("Playing while the rest is generated…", "playing");
}

// ------------------------------------------------------------------ reading along

// The stream's captions arrive as a text track of the <audio> element (hls.js adds it from the
// multivariant playlist; Safari's own player does the same). Browsers draw no cues for audio, so the
// page renders them: the active cue under the player, every cue in the transcript.
function followCaptions(session) {
  const tracks = view.player.textTracks;
  const signal = session.listeners.signal;
  const attach = () => {
    const track = [...tracks].find((t) => t.kind === "subtitles" || t.kind === "captions");
    if (!track || session.track === track) return;
    session.track = track;
    if (track.mode === "disabled") track.mode = "hidden"; // Safari leaves it off; hls.js turns it on
    track.addEventListener("cuechange", () => onCueChange(session), { signal });
    window.audiostream.captionTrack = { label: track.label, language: track.language, kind: track.kind };
  };
  tracks.addEventListener("addtrack", attach, { signal });
  tracks.addEventListener("change", attach, { signal });
  view.player.addEventListener("timeupdate", () => syncTranscript(session), { signal });
  attach();
}

// "Hello <00:00:02.023>there." -> words with the time each is spoken (WebVTT cue timestamps).
function timedWords(cue) {
  const words = [];
  let at = cue.startTime;
  for (const piece of cue.text.split(/(<\d{2}:\d{2}:\d{2}\.\d{3}>)/)) {
    const stamp = piece.match(/^<(\d{2}):(\d{2}):(\d{2}\.\d{3})>$/);
    if (stamp) at = Number(stamp[1]) * 3600 + Number(stamp[2]) * 60 + Number(stamp[3]);
    else for (const word of piece.split(/\s+/).filter(Boolean)) words.push({ at, text: word });
  }
  return words;
}

const plainText = (cue) => timedWords(cue).map((word) => word.text).join(" ");

function onCueChange(session) {
  if (session !== current) return;
  const active = [...(session.track.activeCues || [])];
  window.audiostream.cueChanges.push({ ids: active.map((cue) => cue.id), at: view.player.currentTime });
  const cue = active.at(-1);
  showCaption(session, cue);
  syncTranscript(session);
  markSpoken(cue ? Number(cue.id) : null);
}

function showCaption(session, cue) {
  cancelAnimationFrame(session.wordsFrame);
  if (!cue) {
    view.caption.replaceChildren();
    return;
  }
  const words = timedWords(cue);
  const spans = words.map((word, index) => {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word.text;
    span.dataset.at = String(word.at);
    return index ? [" ", span] : [span];
  });
  view.caption.replaceChildren(...spans.flat());
  view.caption.lang = session.track.language || document.documentElement.lang;
  // With the words' times known, the words said so far are marked as they are said.
  if (new Set(words.map((word) => word.at)).size < 2) return;
  const mark = () => {
    const now = view.player.currentTime;
    for (const span of view.caption.querySelectorAll(".word")) {
      span.classList.toggle("said", Number(span.dataset.at) <= now);
    }
    if (!view.player.paused) session.wordsFrame = requestAnimationFrame(mark);
  };
  mark();
}

function formatTime(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function addSentence(number, start, text) {
  const known = view.transcript.querySelector(`[data-cue="${number}"]`);
  if (known) return;
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.cue = String(number);
  button.dataset.start = String(start);
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = formatTime(start);
  const words = document.createElement("span");
  words.textContent = text;
  button.append(time, words);
  button.setAttribute("aria-label", `${formatTime(start)}: ${text}`);
  item.append(button);
  // Cues arrive in order, but a seek may load a later stretch first: keep the list in time order.
  const later = [...view.transcript.children].find((li) => Number(li.firstChild.dataset.start) > start);
  view.transcript.insertBefore(item, later || null);
}

function syncTranscript(session) {
  if (session !== current || !session.track?.cues) return;
  for (const cue of session.track.cues) addSentence(cue.id, cue.startTime, plainText(cue));
  if (session.track.cues.length && window.audiostream.firstCueAt === null) {
    window.audiostream.firstCueAt = Date.now();
  }
}

// The sentence being spoken, for the eye (highlighted) and for screen readers (aria-current).
function markSpoken(number) {
  for (const button of view.transcript.querySelectorAll("button[aria-current]")) button.removeAttribute("aria-current");
  if (number === null) return;
  const button = view.transcript.querySelector(`[data-cue="${number}"]`);
  if (!button) return;
  button.setAttribute("aria-current", "true");
  const list = view.transcript;
  const item = button.parentElement;
  if (item.offsetTop < list.scrollTop || item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = item.offsetTop - list.clientHeight / 3; // the list scrolls, never the page
  }
}

// The whole transcript once the session has ended (transcript.json: every sentence, words where known).
async function loadTranscript(session, url) {
  if (!url) return;
  try {
    const response = await fetch(url);
    if (!response.ok) return;
    const transcript = await response.json();
    if (session !== current) return;
    transcript.sentences.forEach((sentence, number) => addSentence(String(number), sentence.start, sentence.text));
  } catch {
    // The captions in the stream still fill the list as it plays.
  }
}

// The player knows a growing stream only as far as the playlist it last loaded, and clamps a seek
// beyond that to its end: a sentence further on is sought once the player knows it is there.
function seekTo(session, seconds) {
  const audio = view.player;
  window.audiostream.seeks.push({ from: audio.currentTime, to: seconds });
  clearTimeout(session.seekTimer);
  const reachable = () => audio.seekable.length > 0 && audio.seekable.end(audio.seekable.length - 1) >= seconds;
  const go = () => {
    if (session !== current) return;
    if (!reachable()) {
      session.seekTimer = setTimeout(go, 100);
      return;
    }
    audio.currentTime = seconds + 0.01; // inside the sentence's cue, not on the previous one's end
    if (audio.paused) audio.play().catch(() => {});
  };
  go();
}

function showCaptions(on) {
  view.captionBox.hidden = !on;
  try {
    localStorage.setItem("audiostream.captions", on ? "on" : "off");
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

function resetReadAlong() {
  view.caption.replaceChildren();
  view.transcript.replaceChildren();
  Object.assign(window.audiostream, { cueChanges: [], firstCueAt: null, captionTrack: null, seeks: [] });
}

// ------------------------------------------------------------------ following a session

async function follow(session) {
  if (session.ended) return;
  clearTimeout(session.pollTimer);
  let response;
  let status;
  try {
    response = await fetch(session.statusUrl, { cache: "no-store" });
    status = await response.json();
  } catch (error) {
    if (session !== current) return;
    showStatus(`Lost touch with the server (${error.message}); retrying…`, "loading");
    session.pollTimer = setTimeout(() => follow(session), POLL_MS);
    return;
  }
  if (session !== current) return;
  if (response.status === 429 || response.status >= 500) {
    // Throttled, or a passing fault: the session goes on; ask again when the server says.
    const wait = Number(response.headers.get("Retry-After")) * 1000 || POLL_MS;
    showStatus("The server is busy; still following the session…", "loading");
    session.pollTimer = setTimeout(() => follow(session), wait);
    return;
  }
  if (!response.ok) {
    // An unknown or expired session: asking again will not help.
    session.ended = true;
    showStatus(status.error || `The server answered HTTP ${response.status}.`, "error");
    setBusy(false);
    return;
  }
  showFacts(status);

  const ended = ENDED.has(status.state);
  if (status.segments > 0 || ended) {
    noteStep(session, "statusNamedASegment");
    session.segmentSeen = true;
    session.nameListed();
    if (!session.player) startPlayer(session); // the browser's own player (no hls.js) starts here
  }

  if (ended) {
    session.ended = true;
    setBusy(false);
    if (session.playerFailed) return; // keep the player's own error in view
    loadTranscript(session, status.transcript);
    if (status.state === "SUCCESS") {
      window.audiostream.doneAt = performance.now();
      showStatus(`Done: ${status.duration.toFixed(1)} s of audio.`, "done");
      if (status.download) {
        view.download.href = status.download; // a file to keep: one MP4, served as an attachment
        view.download.hidden = false;
      }
    } else if (status.state === "REVOKED") {
      showStatus(`Stopped: the ${status.duration.toFixed(1)} s made before it stay playable.`, "stopped");
    } else {
      const kept = status.duration > 0 ? ` The ${status.duration.toFixed(1)} s made before it stay playable.` : "";
      showStatus(`Failed: ${status.error}.${kept}`, "error");
    }
    return;
  }
  if (status.state === "PENDING") showStatus("Waiting for a free generator…", "loading");
  else if (!session.segmentSeen) showStatus("Generating speech…", "loading");
  session.pollTimer = setTimeout(() => follow(session), session.segmentSeen ? POLL_MS : POLL_UNTIL_FIRST_SEGMENT_MS);
}

// Stop asks the server to cancel the session: it becomes REVOKED at once, and generation stops within
// a second, its playlist closed over what was made (which the player goes on playing).
async function stop() {
  const session = current;
  if (!session || session.ended) return;
  view.stop.disabled = true;
  showStatus("Stopping…", "loading");
  try {
    const response = await fetch(API.cancel(session.id), { method: "POST" });
    const answer = await response.json().catch(() => ({}));
    if (session !== current) return;
    if (!response.ok && response.status !== 409) {
      view.stop.disabled = false;
      showStatus(answer.error || `Could not stop: the server answered HTTP ${response.status}.`, "error");
      return;
    }
  } catch (error) {
    if (session !== current) return;
    view.stop.disabled = false;
    showStatus(`Could not stop: ${error.message}.`, "error");
    return;
  }
  clearTimeout(session.pollTimer);
  follow(session); // the status says how much was made, and ends the wait
}

async function start() {
  if (view.start.getAttribute("aria-disabled") === "true") return;
  const text = view.prompt.value;
  stopPlayer(current);
  resetFacts();
  resetReadAlong();
  current = null;
  window.audiostream.doneAt = null;
  setBusy(true);
  showStatus("Starting…", "loading");
  const clickedAt = performance.now();
  window.audiostream.steps = {};
  window.audiostream.clickedAtEpochMs = performance.timeOrigin + clickedAt;
  const body = { prompt: text, lang: view.lang.value || undefined, engine: view.engine.value || undefined };
  if (view.voice.value) body.voice = view.voice.value;

  let response;
  let answer;
  try {
    response = await fetch(API.start, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    answer = await response.json().catch(() => ({ error: `the server answered HTTP ${response.status}` }));
  } catch (error) {
    showStatus(`Could not reach the server: ${error.message}.`, "error");
    setBusy(false);
    return;
  }
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const reason = answer.error || answer.message || `The server answered HTTP ${response.status}`;
    showStatus(retry ? `${reason}: try again in ${retry} s.` : reason, "error");
    setBusy(false);
    if (answer.field === "prompt" || answer.field === "text") view.prompt.focus();
    return;
  }
  let nameListed;
  const listed = new Promise((resolve) => {
    nameListed = resolve;
  });
  current = {
    id: answer.session_id,
    statusUrl: answer.status_url,
    // The multivariant playlist carries the captions; a server without them answers only the audio's.
    playlist: answer.master || answer.playlist,
    clickedAt,
    listed,
    nameListed,
    listeners: new AbortController(),
  };
  window.audiostream.sessionId = current.id;
  noteStep(current, "startAnswered");
  if (window.Hls && Hls.isSupported()) startPlayer(current);
  follow(current);
}

view.form.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
view.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    start();
  }
});
view.prompt.addEventListener("input", updateCounter);
view.stop.addEventListener("click", stop);
view.engine.addEventListener("change", fillLanguagesAndVoices);
view.lang.addEventListener("change", nameTheAutomaticEngine);
view.captionsOn.addEventListener("change", () => showCaptions(view.captionsOn.checked));
view.transcript.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-start]");
  if (button && current) seekTo(current, Number(button.dataset.start));
});
try {
  view.captionsOn.checked = localStorage.getItem("audiostream.captions") !== "off";
} catch {
  // Private mode: captions start on.
}
showCaptions(view.captionsOn.checked);

updateCounter();
loadCatalog();
