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

/**
 * Reads a process's output until it contains `marker` (a server's
 * "listening", a daemon's "started"); returns the reader, still open, and
 * the text so far. Throws naming `what` and what it said when the output
 * ends first. No deadline of its own: the process's own ends the wait.
 */
export async function readUntil(
  stream: ReadableStream<Uint8Array>,
  marker: string,
  what: string,
): Promise<{ reader: ReadableStreamDefaultReader<string>; text: string }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} ended before saying "${marker.trim()}": ${text}`);
    text += value;
  }
  return { reader, text };
}
