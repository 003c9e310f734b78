// @ts-check
// The audiostream demo page: start a session, follow its status, play its HLS stream as it grows,
// and read along: the sentence being spoken (from the stream's own WebVTT captions), and the
// transcript, whose sentences seek when chosen. This module wires the page's controls; each session
// is a PlaybackSession (session.js), destroyed when the next Start is pressed.

import { postStart } from "./api.js";
import { clearCaption, rememberedCaptionsChoice, showCaptions } from "./captions.js";
import { fillLanguagesAndVoices, loadCatalog, nameTheAutomaticEngine, updateCounter } from "./catalog.js";
import { isBusy, setBusy, startRequest } from "./controls.js";
import { forgetReadAlong, observed } from "./observations.js";
import { hlsJs } from "./player.js";
import { PlaybackSession } from "./session.js";
import { chosenSentenceStart, clearTranscript } from "./transcript.js";
import { resetFacts, showStatus, view } from "./view.js";

/**
 * The session being followed: none before the first start answer, nor while a Start is answered.
 * @type {PlaybackSession | null}
 */
let current = null;

async function start() {
  if (isBusy()) return;
  current?.destroy();
  resetFacts();
  clearCaption();
  clearTranscript();
  forgetReadAlong();
  current = null;
  observed.doneAt = null;
  setBusy(true);
  showStatus("Starting…", "loading");
  const clickedAt = performance.now();
  observed.steps = {};
  observed.clickedAtEpochMs = performance.timeOrigin + clickedAt;

  let response;
  let answer;
  try {
    ({ response, answer } = await postStart(startRequest()));
  } catch (error) {
    showStatus(`Could not reach the server: ${/** @type {Error} */ (error).message}.`, "error");
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
  current = new PlaybackSession(answer, clickedAt);
  observed.sessionId = current.id;
  current.noteStep("startAnswered");
  if (hlsJs()) current.startPlayer(); // else the browser's own player, once the status names a segment
  current.follow();
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
view.stop.addEventListener("click", () => current?.stop());
view.engine.addEventListener("change", fillLanguagesAndVoices);
view.lang.addEventListener("change", nameTheAutomaticEngine);
view.captionsOn.addEventListener("change", () => showCaptions(view.captionsOn.checked));
view.transcript.addEventListener("click", (event) => {
  const seconds = chosenSentenceStart(event);
  if (seconds !== null && current) current.seekTo(seconds);
});
const captionsOn = rememberedCaptionsChoice();
if (captionsOn !== null) view.captionsOn.checked = captionsOn;
showCaptions(view.captionsOn.checked);

updateCounter();
loadCatalog();
