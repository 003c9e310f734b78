// @ts-check
// Captions for the eye: the stream's captions arrive as a text track of the <audio> element (hls.js
// adds it from the multivariant playlist; Safari's own player does the same). Browsers draw no cues
// for audio, so the page renders them: the active cue on the caption line, under the player, its
// words marked as they are said where the cue times them.

import { view } from "./view.js";

/**
 * @typedef {object} TimedWord
 * @property {number} at the time it is spoken, in seconds
 * @property {string} text
 */

/**
 * The stream's captions among the element's text tracks, if they are there yet.
 * @param {TextTrackList} tracks
 * @returns {TextTrack | undefined}
 */
export function findCaptionTrack(tracks) {
  return [...tracks].find((track) => track.kind === "subtitles" || track.kind === "captions");
}

/**
 * "Hello <00:00:02.023>there." -> words with the time each is spoken (WebVTT cue timestamps).
 * @param {VTTCue} cue
 * @returns {TimedWord[]}
 */
function timedWords(cue) {
  /** @type {TimedWord[]} */
  const words = [];
  let at = cue.startTime;
  for (const piece of cue.text.split(/(<\d{2}:\d{2}:\d{2}\.\d{3}>)/)) {
    const stamp = piece.match(/^<(\d{2}):(\d{2}):(\d{2}\.\d{3})>$/);
    if (stamp) at = Number(stamp[1]) * 3600 + Number(stamp[2]) * 60 + Number(stamp[3]);
    else for (const word of piece.split(/\s+/).filter(Boolean)) words.push({ at, text: word });
  }
  return words;
}

/**
 * A cue's words without their timestamps.
 * @param {VTTCue} cue
 */
export const plainText = (cue) => timedWords(cue).map((word) => word.text).join(" ");

/**
 * Shows a cue on the caption line.
 * @param {VTTCue} cue
 * @param {string} language the track's, for the line's `lang`
 * @returns {boolean} whether the words' times are known (then markSaidWords can follow the voice)
 */
export function showCaption(cue, language) {
  const words = timedWords(cue);
  const spans = words.map((word, index) => {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word.text;
    span.dataset.at = String(word.at);
    return index ? [" ", span] : [span];
  });
  view.caption.replaceChildren(...spans.flat());
  view.caption.lang = language;
  return new Set(words.map((word) => word.at)).size >= 2;
}

/**
 * Marks the words on the caption line that are said by `now`.
 * @param {number} now the playback time, in seconds
 */
export function markSaidWords(now) {
  for (const span of view.caption.querySelectorAll(".word")) {
    span.classList.toggle("said", Number(/** @type {HTMLElement} */ (span).dataset.at) <= now);
  }
}

export function clearCaption() {
  view.caption.replaceChildren();
}

/**
 * Shows or hides the caption line, and remembers the choice.
 * @param {boolean} on
 */
export function showCaptions(on) {
  view.captionBox.hidden = !on;
  try {
    localStorage.setItem("audiostream.captions", on ? "on" : "off");
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

/**
 * Whether the caption line was last chosen to be shown (it is, unless turned off).
 * @returns {boolean | null} null where nothing can be remembered (private mode)
 */
export function rememberedCaptionsChoice() {
  try {
    return localStorage.getItem("audiostream.captions") !== "off";
  } catch {
    return null;
  }
}
