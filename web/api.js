// @ts-check
// The HTTP API as the page calls it, and the shapes of its answers (openapi.yaml is the truth).
// The page is served from the same origin as the API and the media (CloudFront in AWS, `make run`
// locally), so every URL here is relative.

/** @typedef {"PENDING" | "PROGRESS" | "SUCCESS" | "FAILURE" | "REVOKED"} State */

/**
 * What Start sends: the form's text, and a language, engine and voice where one is chosen.
 * @typedef {object} StartRequest
 * @property {string} prompt
 * @property {string} [lang]
 * @property {string} [engine]
 * @property {string} [voice]
 */

/**
 * An error answer (every error body is JSON). API Gateway's own refusals say `message`.
 * @typedef {object} ErrorAnswer
 * @property {string} [error]
 * @property {string} [message]
 * @property {string} [field] the request field at fault
 */

/**
 * The start answer (202).
 * @typedef {object} StartAnswer
 * @property {string} session_id
 * @property {string} status_url
 * @property {string} playlist the audio media playlist
 * @property {string} [master] the multivariant playlist, with the captions' rendition
 */

/**
 * A session's status. The counts appear with the first chunk and stay in every later state.
 * @typedef {object} Status
 * @property {State} state
 * @property {string} status a sentence
 * @property {string} [engine]
 * @property {string} [voice]
 * @property {number} [chunk_count]
 * @property {number} [chunks_total]
 * @property {number} [segments]
 * @property {number} [duration] audio seconds so far
 * @property {number} [progress] 0..100
 * @property {string} [transcript] transcript.json's URL, once the session has ended
 * @property {string} [download] the audio as one file, on SUCCESS
 * @property {string} [error] on FAILURE
 */

/**
 * @typedef {object} Language
 * @property {string} code
 * @property {string} name
 */

/**
 * @typedef {object} Engine
 * @property {string} name
 * @property {Language[]} languages
 * @property {string[]} voices
 * @property {string[]} [default_for] the languages for which the server picks this engine
 */

/**
 * The engines, their languages and voices, and the limits a request must keep.
 * @typedef {object} Catalog
 * @property {Engine[]} engines
 * @property {number} max_text_chars
 * @property {string} [default_lang]
 */

/**
 * transcript.json: every sentence, with the time it starts.
 * @typedef {object} Transcript
 * @property {{start: number, text: string}[]} sentences
 */

const ROUTES = {
  start: "/audiostream/start/",
  engines: "/audiostream/engines/",
  /** @param {string} id */
  cancel: (id) => `/audiostream/cancel/${id}/`,
};

/** The states a session does not leave. @type {ReadonlySet<string>} */
export const ENDED = new Set(["SUCCESS", "FAILURE", "REVOKED"]);

/**
 * Starts a session. Throws only when the server cannot be reached; an answer that is not JSON
 * becomes an error answer naming the HTTP status.
 * @param {StartRequest} request
 * @returns {Promise<{response: Response, answer: StartAnswer & ErrorAnswer}>}
 */
export async function postStart(request) {
  const response = await fetch(ROUTES.start, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  const answer = await response.json().catch(() => ({ error: `the server answered HTTP ${response.status}` }));
  return { response, answer };
}

/**
 * One look at a session's status. Throws when the server cannot be reached or answers no JSON.
 * @param {string} url the start answer's `status_url`
 * @param {AbortSignal} signal
 * @returns {Promise<{response: Response, body: Status & ErrorAnswer}>}
 */
export async function getStatus(url, signal) {
  const response = await fetch(url, { cache: "no-store", signal });
  return { response, body: await response.json() };
}

/**
 * Asks the server to cancel a session. Throws only when the server cannot be reached.
 * @param {string} id
 * @returns {Promise<{response: Response, answer: ErrorAnswer}>}
 */
export async function postCancel(id) {
  const response = await fetch(ROUTES.cancel(id), { method: "POST" });
  const answer = await response.json().catch(() => ({}));
  return { response, answer };
}

/**
 * The engines, languages and voices. Throws on any failure.
 * @returns {Promise<Catalog>}
 */
export async function getCatalog() {
  const response = await fetch(ROUTES.engines);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/**
 * A session's whole transcript, or null if the server has none to give. Throws when it cannot be
 * reached or answers no JSON.
 * @param {string} url the status's `transcript`
 * @returns {Promise<Transcript | null>}
 */
export async function getTranscript(url) {
  const response = await fetch(url);
  if (!response.ok) return null;
  return response.json();
}
