// @ts-check
// Every timeout and animation frame one owner (a session) has pending, so that it can cancel them
// all when it ends.

export class Timers {
  /** @type {Set<number>} */
  #timeouts = new Set();
  /** @type {Set<number>} */
  #frames = new Set();
  #cancelled = false;

  /**
   * Calls back after `ms` milliseconds (nothing once everything was cancelled).
   * @param {() => void} callback
   * @param {number} ms
   * @returns {number} the id to cancel it by
   */
  later(callback, ms) {
    if (this.#cancelled) return 0;
    const id = setTimeout(() => {
      this.#timeouts.delete(id);
      callback();
    }, ms);
    this.#timeouts.add(id);
    return id;
  }

  /**
   * Calls back before the next repaint (nothing once everything was cancelled).
   * @param {() => void} callback
   * @returns {number} the id to cancel it by
   */
  frame(callback) {
    if (this.#cancelled) return 0;
    const id = requestAnimationFrame(() => {
      this.#frames.delete(id);
      callback();
    });
    this.#frames.add(id);
    return id;
  }

  /** @param {number | undefined} id from later(); none, or one already called, is nothing to do */
  cancel(id) {
    if (id === undefined) return;
    clearTimeout(id);
    this.#timeouts.delete(id);
  }

  /** @param {number | undefined} id from frame() */
  cancelFrame(id) {
    if (id === undefined) return;
    cancelAnimationFrame(id);
    this.#frames.delete(id);
  }

  /** Cancels everything pending, and schedules nothing more. */
  cancelAll() {
    this.#cancelled = true;
    for (const id of this.#timeouts) clearTimeout(id);
    for (const id of this.#frames) cancelAnimationFrame(id);
    this.#timeouts.clear();
    this.#frames.clear();
  }
}
