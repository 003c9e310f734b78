// @ts-check
// What tests, the bench (bench/browser.py) and curious users read from the console:
// `window.audiostream`. Its fields and their meaning are a public surface; keep them as they are.

/**
 * The steps between the click and the first sound, each in milliseconds after the click, noted the
 * first time it is done: startAnswered, multivariantPlaylistLoaded, statusNamedASegment,
 * audioPlaylistLoaded, initLoaded, firstSegmentLoaded, firstSegmentBuffered, playing.
 * @typedef {Record<string, number>} Steps
 */

/**
 * @typedef {object} CueChange
 * @property {string[]} ids the cues active after the change
 * @property {number} at the playback time, in seconds
 */

/**
 * @typedef {object} Observations
 * @property {number | null} firstSoundMs from the click to the first `playing` event
 * @property {Steps} steps where the time from the click to the first sound went
 * @property {number | null} clickedAtEpochMs the click, on the wall clock (for outside observers)
 * @property {number | null} doneAt when the page showed SUCCESS (performance.now())
 * @property {string | null} sessionId the session being followed
 * @property {string[]} fatalPlayerErrors errors the player gave up on ("type: details")
 * @property {string} state what the status line shows (idle, loading, playing, done, stopped, error)
 * @property {CueChange[]} cueChanges read along: every cuechange
 * @property {number | null} firstCueAt when the first cue was in the page (Date.now())
 * @property {{label: string, language: string, kind: string} | null} captionTrack the followed text track
 * @property {{from: number, to: number}[]} seeks every seek to a chosen sentence
 */

/** @type {Observations} */
export const observed = {
  firstSoundMs: null,
  steps: {},
  clickedAtEpochMs: null,
  doneAt: null,
  sessionId: null,
  fatalPlayerErrors: [],
  state: "idle",
  cueChanges: [],
  firstCueAt: null,
  captionTrack: null,
  seeks: [],
};

/** @type {Window & {audiostream?: Observations}} */ (window).audiostream = observed;

/** Forgets what was read along in the session before. */
export function forgetReadAlong() {
  Object.assign(observed, { cueChanges: [], firstCueAt: null, captionTrack: null, seeks: [] });
}
