// @ts-check
// The page's elements (index.html), and what the status area shows: the status line, the progress
// bar and the facts about the session.

import { observed } from "./observations.js";

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type what the element is (checked, so that a renamed id fails at once)
 * @returns {T}
 */
function element(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html has no ${type.name} #${id}`);
  return found;
}

export const view = {
  form: element("request", HTMLFormElement),
  prompt: element("prompt", HTMLTextAreaElement),
  counter: element("counter", HTMLElement),
  engine: element("engine", HTMLSelectElement),
  lang: element("lang", HTMLSelectElement),
  voice: element("voice", HTMLSelectElement),
  start: element("start", HTMLButtonElement),
  stop: element("stop", HTMLButtonElement),
  status: element("status", HTMLElement),
  progress: element("progress", HTMLProgressElement),
  progressText: element("progress-text", HTMLElement),
  player: element("player", HTMLAudioElement),
  spokenBy: element("spoken-by", HTMLElement),
  firstSound: element("first-sound", HTMLElement),
  chunks: element("chunks", HTMLElement),
  audioSeconds: element("audio-seconds", HTMLElement),
  segments: element("segments", HTMLElement),
  download: element("download", HTMLAnchorElement),
  captionBox: element("caption-box", HTMLElement),
  caption: element("caption", HTMLElement),
  captionsOn: element("captions-on", HTMLInputElement),
  transcript: element("transcript", HTMLOListElement),
};

/**
 * The status line, and the page's state (body's data-state, window.audiostream.state), which the
 * stylesheet and the tests follow.
 * @param {string} text
 * @param {"idle" | "loading" | "playing" | "done" | "stopped" | "error"} kind
 */
export function showStatus(text, kind) {
  // The status line is a live region: rewriting the same words would make screen readers repeat them.
  if (view.status.textContent === text && observed.state === kind) return;
  view.status.textContent = text;
  view.status.className = `status ${kind}`;
  document.body.dataset.state = kind;
  observed.state = kind;
}

/** @param {number} percent */
function showProgress(percent) {
  view.progress.value = percent;
  view.progress.textContent = `${percent} %`;
  view.progressText.textContent = `${percent} %`;
}

/** @param {import("./api.js").Status} status */
export function showFacts(status) {
  if (status.engine) view.spokenBy.textContent = `${status.engine} · ${status.voice || "default voice"}`;
  if (status.chunk_count !== undefined) {
    view.chunks.textContent = status.chunks_total
      ? `${status.chunk_count} of ${status.chunks_total}`
      : String(status.chunk_count);
    view.audioSeconds.textContent = `${/** @type {number} */ (status.duration).toFixed(1)} s`;
    view.segments.textContent = String(status.segments);
  }
  if (status.progress !== undefined) showProgress(status.progress);
}

/** @param {number} elapsedMs from the click to the first sound */
export function showFirstSound(elapsedMs) {
  view.firstSound.textContent = `${(elapsedMs / 1000).toFixed(2)} s`;
}

/** @param {string} url the session's audio as one file, served as an attachment */
export function offerDownload(url) {
  view.download.href = url;
  view.download.hidden = false;
}

export function resetFacts() {
  showProgress(0);
  view.download.hidden = true;
  view.download.removeAttribute("href");
  for (const fact of [view.spokenBy, view.firstSound, view.chunks, view.audioSeconds, view.segments]) {
    fact.textContent = "–";
  }
  observed.firstSoundMs = null;
}
