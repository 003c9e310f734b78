// @ts-check
// The form's controls: what Start sends, and the Start and Stop buttons while a session is made.

import { view } from "./view.js";

/**
 * The request the form describes: its text, and the language, engine and voice where chosen.
 * @returns {import("./api.js").StartRequest}
 */
export function startRequest() {
  /** @type {import("./api.js").StartRequest} */
  const body = { prompt: view.prompt.value, lang: view.lang.value || undefined, engine: view.engine.value || undefined };
  if (view.voice.value) body.voice = view.voice.value;
  return body;
}

/**
 * While a session is being started or made, Start says so and does nothing, and Stop is offered.
 * @param {boolean} busy
 */
export function setBusy(busy) {
  view.start.setAttribute("aria-disabled", String(busy));
  view.start.textContent = busy ? "Generating…" : "Start";
  view.stop.hidden = !busy;
  view.stop.disabled = false;
}

/** Whether a session is being started or made (Start does nothing then). */
export function isBusy() {
  return view.start.getAttribute("aria-disabled") === "true";
}
