// @ts-check
// The transcript: one button per sentence with its time, in time order, growing as the captions
// arrive and whole once the session has ended; the sentence being spoken is marked. Choosing a
// sentence seeks there (the session does the seeking).

import { view } from "./view.js";

/** @param {number} seconds */
function formatTime(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * Lists a sentence, unless it is listed already.
 * @param {string} number the cue's id: the sentence's number in the session, from 0
 * @param {number} start its time, in seconds
 * @param {string} text
 */
export function addSentence(number, start, text) {
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
  const later = [...view.transcript.children].find(
    (li) => Number(/** @type {HTMLElement} */ (li.firstChild).dataset.start) > start,
  );
  view.transcript.insertBefore(item, later || null);
}

/**
 * The sentence being spoken, for the eye (highlighted) and for screen readers (aria-current).
 * @param {number | null} number none: no sentence is being spoken
 */
export function markSpoken(number) {
  for (const button of view.transcript.querySelectorAll("button[aria-current]")) button.removeAttribute("aria-current");
  if (number === null) return;
  const button = view.transcript.querySelector(`[data-cue="${number}"]`);
  if (!button) return;
  button.setAttribute("aria-current", "true");
  const list = view.transcript;
  const item = /** @type {HTMLElement} */ (button.parentElement);
  if (item.offsetTop < list.scrollTop || item.offsetTop + item.offsetHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = item.offsetTop - list.clientHeight / 3; // the list scrolls, never the page
  }
}

/**
 * The time of the sentence a click in the transcript chose, if it chose one.
 * @param {Event} event
 * @returns {number | null} seconds
 */
export function chosenSentenceStart(event) {
  const button = /** @type {Element} */ (event.target).closest("button[data-start]");
  return button ? Number(/** @type {HTMLElement} */ (button).dataset.start) : null;
}

export function clearTranscript() {
  view.transcript.replaceChildren();
}
