// @ts-check
// Following a session: how often its status is asked for, and what one answer means for the page.

import { getStatus } from "./api.js";

// Until the status names the first segment (usually within ~0.2 s), then. The status route's
// throttle in template.yaml is sized by the first (tests/test_template.py reads it here).
export const POLL_UNTIL_FIRST_SEGMENT_MS = 100;
export const POLL_MS = 1000;

/**
 * What one look at the status found:
 * - unreachable: no answer, or no JSON (the session may go on: look again);
 * - busy: throttled, or a passing fault (the session goes on: look again when the server says);
 * - gone: an unknown or expired session (looking again will not help), with the server's reason;
 * - status: the session's status.
 * @typedef {{kind: "unreachable", error: Error}
 *   | {kind: "busy", waitMs: number}
 *   | {kind: "gone", message: string}
 *   | {kind: "status", status: import("./api.js").Status}} Look
 */

/**
 * @param {string} url the start answer's `status_url`
 * @param {AbortSignal} signal
 * @returns {Promise<Look>}
 */
export async function lookAtStatus(url, signal) {
  let response;
  let body;
  try {
    ({ response, body } = await getStatus(url, signal));
  } catch (error) {
    return { kind: "unreachable", error: /** @type {Error} */ (error) };
  }
  if (response.status === 429 || response.status >= 500) {
    return { kind: "busy", waitMs: Number(response.headers.get("Retry-After")) * 1000 || POLL_MS };
  }
  if (!response.ok) return { kind: "gone", message: body.error || `The server answered HTTP ${response.status}.` };
  return { kind: "status", status: body };
}

/**
 * How long until the next look.
 * @param {boolean} segmentSeen whether the status has named a segment
 */
export function nextLookMs(segmentSeen) {
  return segmentSeen ? POLL_MS : POLL_UNTIL_FIRST_SEGMENT_MS;
}
