import assert from "node:assert/strict";
import {
  attachClock,
  clockBuffer,
  clockIsStopped,
  clockSleepUntil,
  clockStop,
  clockWaitWord,
  clockWarp,
  timeMsec,
  timeWallMsec,
} from "./clock.ts";

function freshClock(): void {
  attachClock(new SharedArrayBuffer(clockBuffer().byteLength));
}

Deno.test("a running clock never goes backwards", () => {
  freshClock();
  let last = timeMsec();
  for (let i = 0; i < 10000; i++) {
    const now = timeMsec();
    assert.ok(now >= last);
    last = now;
  }
  assert.equal(clockIsStopped(), false);
});

Deno.test("a stopped clock moves only by warps", () => {
  freshClock();
  clockStop();
  const t0 = timeMsec();
  for (let i = 0; i < 1000; i++) assert.equal(timeMsec(), t0);
  clockWarp(100);
  assert.equal(timeMsec(), t0 + 100);
  clockWarp(1300);
  assert.equal(timeMsec(), t0 + 1400);
});

Deno.test("warping a running clock jumps it forward", () => {
  freshClock();
  const before = timeMsec();
  clockWarp(60_000);
  assert.ok(timeMsec() >= before + 60_000);
});

Deno.test("warps leave the wall clock alone", () => {
  freshClock();
  clockStop();
  clockWarp(3_600_000);
  assert.ok(Math.abs(timeWallMsec() - Date.now()) < 3_600_000);
});

Deno.test("a negative or non-finite warp is refused", () => {
  freshClock();
  assert.throws(() => clockWarp(-1), /invalid warp/);
  assert.throws(() => clockWarp(NaN), /invalid warp/);
});

Deno.test("attaching a buffer of the wrong size is refused", () => {
  assert.throws(() => attachClock(new SharedArrayBuffer(8)), /clock buffer must be/);
});

Deno.test("a sleeper on a stopped clock wakes when a warp reaches its deadline", async () => {
  freshClock();
  clockStop();
  const start = timeMsec();
  let woke = -1;
  const sleeping = clockSleepUntil(start + 1000).then((t) => (woke = t));
  clockWarp(500);
  await Promise.resolve();
  assert.equal(woke, -1);
  clockWarp(500);
  await sleeping;
  assert.equal(woke, start + 1000);
});

Deno.test("an aborted sleep resolves without a warp", async () => {
  freshClock();
  clockStop();
  const ac = new AbortController();
  const sleeping = clockSleepUntil(timeMsec() + 1000, ac.signal);
  ac.abort();
  assert.equal(await sleeping, timeMsec());
});

Deno.test("a worker attached to the buffer sees the main thread's stop and warps", async () => {
  freshClock();
  clockStop();
  clockWarp(12345);
  const expected = timeMsec();
  const src = `
    import { attachClock, clockBlockUntil, timeMsec } from "${
    new URL("./clock.ts", import.meta.url).href
  }";
    self.onmessage = (e) => {
      attachClock(e.data.sab);
      const seen = timeMsec();
      self.postMessage({ seen });
      const woke = clockBlockUntil(seen + 50, 60_000);
      self.postMessage({ woke });
    };`;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const replies: Array<{ seen?: number; woke?: number }> = [];
  const done = new Promise<void>((resolve) => {
    worker.onmessage = (e) => {
      replies.push(e.data);
      if (replies.length === 1) clockWarp(50);
      else resolve();
    };
  });
  worker.postMessage({ sab: clockBuffer() });
  await done;
  worker.terminate();
  URL.revokeObjectURL(url);
  assert.equal(replies[0].seen, expected);
  assert.equal(replies[1].woke, expected + 50);
  assert.equal(typeof clockWaitWord().index, "number");
});
