/**
 * VLOG_RATE_LIMIT_INIT(rate, burst): at most `burst` messages at once and
 * `rate` per minute after that, on the shared clock.
 */
import { timeMsec } from "../lib/mod.ts";

const MSG_TOKENS = 60 * 1000;

export class RateLimit {
  readonly #rate: number;
  readonly #burst: number;
  #tokens = 0;
  #lastFill = -Infinity;

  constructor(ratePerMinute: number, burst: number) {
    this.#rate = ratePerMinute;
    this.#burst = burst * MSG_TOKENS;
  }

  /** True when a message may be logged now (and spends its tokens). */
  allow(now = timeMsec()): boolean {
    if (this.#tokens < MSG_TOKENS) {
      const elapsed = now - this.#lastFill;
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
      this.#lastFill = now;
    }
    if (this.#tokens < MSG_TOKENS) return false;
    this.#tokens -= MSG_TOKENS;
    return true;
  }
}
