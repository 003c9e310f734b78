// @ts-check
// The player: hls.js on the page's <audio> element, tuned for an EVENT playlist that starts empty
// and grows faster than real time, or the browser's own HLS player (Safari, iOS).
// hls.js is the npm package's build, loaded by its own <script> before the modules (window.Hls).

/** @typedef {typeof import("hls.js").default} HlsClass */
/** @typedef {import("hls.js").default} Hls */
/** @typedef {import("hls.js").ErrorData} ErrorData */
/** @typedef {import("./timers.js").Timers} Timers */

/**
 * What the player tells its owner.
 * @typedef {object} PlayerHooks
 * @property {(name: string) => void} step a step between the click and the first sound was done
 * @property {() => void} subtitlesProcessed captions for a stretch of the stream are in the text track
 * @property {(message: string, fatalError?: string) => void} failed the player gave up (with hls.js's
 *   fatal error, "type: details", when it was one)
 */

const MAX_PLAYER_RECOVERIES = 5;
const NATIVE_RETRIES = 15;

/** @param {number} maxNumRetry */
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

const HLS_CONFIG = {
  startPosition: 0, // from the first word, not the live edge
  maxBufferLength: 8,
  maxMaxBufferLength: 20,
  backBufferLength: 30,
  playlistLoadPolicy: retryPolicy(15),
  manifestLoadPolicy: retryPolicy(15),
  fragLoadPolicy: retryPolicy(8),
};

/**
 * hls.js, if it is loaded and this browser can run it (Media Source Extensions); else null.
 * @returns {HlsClass | null}
 */
export function hlsJs() {
  const Hls = /** @type {{Hls?: HlsClass}} */ (/** @type {unknown} */ (window)).Hls;
  return Hls && Hls.isSupported() ? Hls : null;
}

/**
 * Resolves after `ms` milliseconds, or at once when the signal is aborted.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @param {Timers} timers
 * @returns {Promise<void>}
 */
function pause(ms, signal, timers) {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    timers.later(resolve, ms);
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * The subtitle playlist is written just after the audio's: asked for at once, it may still be empty,
 * and hls.js would ask again only half a target duration (4 s) later, the captions that long behind
 * the voice. So it is looked at every 250 ms (for at most 3 s) until it names a segment.
 * @param {string} url
 * @param {AbortSignal} signal
 * @param {Timers} timers
 */
async function untilItNamesASegment(url, signal, timers) {
  for (let look = 0; look < 12 && !signal.aborted; look += 1) {
    try {
      const text = await (await fetch(url, { cache: "no-store", signal })).text();
      if (text.includes("#EXTINF") || text.includes("#EXT-X-ENDLIST")) return;
    } catch {
      // hls.js's own load will meet the fault and retry it
    }
    await pause(250, signal, timers);
  }
}

/**
 * The player is made as soon as the start is answered: the multivariant playlist is loaded and the
 * media element attached while the first segment is being made. The audio playlist itself is asked
 * for only once the status names a segment (`listed`): asked earlier, it would be empty, and hls.js
 * would ask again only half a target duration (2 s) later; and in AWS, CloudFront keeps a playlist
 * for a second, so an early empty answer would be served again.
 * hls.js also sets aside a live subtitle playlist that arrives before the audio's (it cannot line the
 * two up yet) and waits for its next reload, up to a target duration (4 s) later: the first captions
 * would lag the voice by that much. So the captions' playlist is asked for only once the audio's is
 * in, and once it names a segment. The waits are in hls.js's playlist-loader hook, pLoader.
 * @param {HlsClass} Hls
 * @param {Promise<void>} listed kept once the status names a first segment (or an end)
 * @param {Promise<void>} audioLoaded kept once hls.js has loaded the audio playlist
 * @param {AbortSignal} signal aborted when the player's owner ends: nothing more is loaded
 * @param {Timers} timers
 */
function playlistLoaderThatWaits(Hls, listed, audioLoaded, signal, timers) {
  // The default loader, as hls.js uses it for playlists.
  const Loader = /** @type {import("hls.js").PlaylistLoaderConstructor} */ (
    /** @type {unknown} */ (Hls.DefaultConfig.loader)
  );
  /** @type {Promise<void> | null} kept once the subtitle playlist names a segment (or has ended) */
  let captionsNamed = null;
  return class extends Loader {
    #aborted = false;

    /** @type {InstanceType<typeof Loader>["load"]} */
    load(context, config, callbacks) {
      const go = () => this.#aborted || signal.aborted || super.load(context, config, callbacks);
      const type = String(context.type); // PlaylistContextType, a const enum hls.js does not export
      if (type === "level") {
        listed.then(go);
        return;
      }
      if (type !== "subtitleTrack") {
        super.load(context, config, callbacks);
        return;
      }
      audioLoaded.then(() => captionsNamed ?? (captionsNamed = untilItNamesASegment(context.url, signal, timers))).then(go);
    }

    abort() {
      this.#aborted = true;
      super.abort();
    }
  };
}

/** One session's player: hls.js where it works, else the browser's own HLS player. */
export class Player {
  /** @type {HTMLAudioElement} */
  #audio;
  /** @type {string} */
  #playlist;
  /** @type {Promise<void>} */
  #listed;
  /** @type {AbortSignal} */
  #signal;
  /** @type {Timers} */
  #timers;
  /** @type {PlayerHooks} */
  #hooks;
  /** @type {Hls | null} */
  #hls = null;
  /** fatal errors recovered from in a row (the budget is for errors in a row, not over a whole story) */
  #recoveries = 0;
  #destroyed = false;

  /**
   * @param {object} options
   * @param {HTMLAudioElement} options.audio
   * @param {string} options.playlist the multivariant playlist where there is one, else the audio's
   * @param {Promise<void>} options.listed kept once the status names a first segment (or an end)
   * @param {AbortSignal} options.signal the owner's: aborted, it removes the player's listeners and
   *   ends its waits
   * @param {Timers} options.timers the owner's: the player's retries are among them
   * @param {PlayerHooks} options.hooks
   */
  constructor({ audio, playlist, listed, signal, timers, hooks }) {
    this.#audio = audio;
    this.#playlist = playlist;
    this.#listed = listed;
    this.#signal = signal;
    this.#timers = timers;
    this.#hooks = hooks;
  }

  /**
   * Starts loading the stream: with hls.js where it works, else with the browser's own player.
   * @returns {boolean} false if this browser cannot play HLS at all (the owner was told)
   */
  start() {
    const Hls = hlsJs();
    if (Hls) {
      this.#startHlsJs(Hls);
    } else if (this.#audio.canPlayType("application/vnd.apple.mpegurl")) {
      this.#startNative(); // Safari, iOS
    } else {
      this.#hooks.failed("This browser cannot play HLS audio.");
      return false;
    }
    return true;
  }

  /** Stops every load and detaches hls.js from the element (the owner empties the element). */
  destroy() {
    this.#destroyed = true;
    this.#hls?.destroy();
    this.#hls = null;
  }

  /** @param {HlsClass} Hls */
  #startHlsJs(Hls) {
    /** @type {() => void} */
    let audioIsIn = () => {};
    /** @type {Promise<void>} */
    const audioLoaded = new Promise((resolve) => {
      audioIsIn = resolve;
    });
    const pLoader = playlistLoaderThatWaits(Hls, this.#listed, audioLoaded, this.#signal, this.#timers);
    const hls = new Hls({ ...HLS_CONFIG, pLoader });
    hls.once(Hls.Events.LEVEL_LOADED, () => audioIsIn());
    this.#hls = hls;
    this.#noteSteps(Hls, hls);
    hls.on(Hls.Events.ERROR, (_event, data) => this.#onError(Hls, hls, data));
    hls.on(Hls.Events.FRAG_LOADED, () => {
      this.#recoveries = 0;
    });
    hls.on(Hls.Events.SUBTITLE_FRAG_PROCESSED, () => this.#hooks.subtitlesProcessed());
    hls.loadSource(this.#playlist);
    hls.attachMedia(this.#audio);
  }

  /**
   * The steps between the click and the first sound, as the player takes them.
   * @param {HlsClass} Hls
   * @param {Hls} hls
   */
  #noteSteps(Hls, hls) {
    const { step } = this.#hooks;
    hls.once(Hls.Events.MANIFEST_LOADED, () => step("multivariantPlaylistLoaded"));
    hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
      if (data.details.fragments.length) step("audioPlaylistLoaded");
    });
    hls.on(Hls.Events.FRAG_LOADED, (_event, data) => {
      if (data.frag.sn === 0) step("firstSegmentLoaded");
    });
    hls.on(Hls.Events.FRAG_BUFFERED, (_event, data) => {
      if (data.frag.sn === 0) step("firstSegmentBuffered");
    });
  }

  /**
   * A fatal error is recovered from a few times in a row before the player gives up.
   * @param {HlsClass} Hls
   * @param {Hls} hls
   * @param {ErrorData} data
   */
  #onError(Hls, hls, data) {
    if (!data.fatal || this.#destroyed) return;
    if (this.#recoveries < MAX_PLAYER_RECOVERIES) {
      this.#recoveries += 1;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else if (data.details.startsWith("manifest")) hls.loadSource(this.#playlist); // no level to reload yet
      else hls.startLoad();
      return;
    }
    this.#hooks.failed(`The player gave up: ${data.details}.`, `${data.type}: ${data.details}`);
  }

  /** The browser's own player: on an error, the playlist is loaded again where playback was. */
  #startNative() {
    const audio = this.#audio;
    let retries = 0;
    const retry = () => {
      if (this.#destroyed) return;
      if (retries >= NATIVE_RETRIES) {
        this.#hooks.failed("The player could not load the stream.");
        return;
      }
      retries += 1;
      const resumeAt = audio.currentTime;
      this.#timers.later(
        () => {
          if (this.#destroyed) return;
          audio.src = this.#playlist;
          audio.currentTime = resumeAt;
          audio.play().catch(() => {});
        },
        Math.min(250 * 2 ** retries, 4000),
      );
    };
    audio.addEventListener("error", retry, { signal: this.#signal });
    audio.src = this.#playlist;
  }
}
