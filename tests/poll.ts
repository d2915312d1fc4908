/**
 * Polling with a deadline, for tests that wait on state another worker or
 * timer changes (a ring drained, a counter reached) and have no event to
 * await. The deadline is no rate assumption: it only turns a hang into a
 * failure that names what never happened.
 */

/** How long a poll waits before failing, in real ms. */
export const POLL_TIMEOUT_MS = 30_000;

/** Resolves once `cond()` holds; throws naming `what` after `timeoutMs`. */
export async function pollUntil(
  cond: () => boolean,
  what: string,
  timeoutMs = POLL_TIMEOUT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** As pollUntil, for a condition that must be awaited (a command's reply, a process's output). */
export async function pollUntilAsync(
  cond: () => Promise<boolean>,
  what: string,
  timeoutMs = POLL_TIMEOUT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
