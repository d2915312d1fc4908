import assert from "node:assert/strict";
import { parseActiveTarget, Rconn, type RconnOwner } from "./rconn.ts";
import { pollUntil } from "../../tests/poll.ts";

Deno.test("active targets parse as OVS names them; a bad one names its bad part", () => {
  assert.deepEqual(parseActiveTarget("tcp:127.0.0.1"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 6653,
  });
  assert.deepEqual(parseActiveTarget("tcp:10.0.0.1:6633"), {
    kind: "tcp",
    host: "10.0.0.1",
    port: 6633,
  });
  assert.deepEqual(parseActiveTarget("tcp:[::1]:7"), { kind: "tcp", host: "::1", port: 7 });
  assert.deepEqual(parseActiveTarget("unix:/run/c.sock"), { kind: "unix", path: "/run/c.sock" });
  assert.throws(
    () => parseActiveTarget("tcp:127.0.0.1:99999"),
    /tcp:127.0.0.1:99999: bad port number "99999"/,
  );
  assert.throws(() => parseActiveTarget("tcp:localhost"), /bad IP address "localhost"/);
  assert.throws(() => parseActiveTarget("tcp:300.1.1.1"), /bad IP address "300.1.1.1"/);
  assert.throws(() => parseActiveTarget("ssl:1.2.3.4"), /ssl:1.2.3.4: unknown connection method/);
  assert.throws(() => parseActiveTarget("unix:"), /missing socket path/);
});

/** A loopback listener that counts connections and does what `onConn` says with each. */
function server(onConn: (c: Deno.Conn) => void) {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = { accepted: 0 };
  (async () => {
    try {
      for await (const c of l) {
        state.accepted++;
        onConn(c);
      }
    } catch { /* closed */ }
  })();
  return { port: (l.addr as Deno.NetAddr).port, state, close: () => l.close() };
}

/** An owner that reads until the stream ends, counting echo requests. */
function owner(): RconnOwner & { echoes: number; conns: Deno.Conn[] } {
  const o = {
    echoes: 0,
    conns: [] as Deno.Conn[],
    async serve(conn: Deno.Conn) {
      o.conns.push(conn);
      const buf = new Uint8Array(64);
      try {
        while ((await conn.read(buf)) !== null) { /* nothing to answer */ }
      } catch { /* closed under us */ }
      try {
        conn.close();
      } catch { /* closed */ }
    },
    sendEchoRequest() {
      o.echoes++;
    },
  };
  return o;
}

Deno.test("a dropped connection is reconnected after the backoff", async () => {
  const held: Deno.Conn[] = [];
  const s = server((c) => {
    if (held.length === 0) c.close(); // the first connection is dropped at once
    held.push(c);
  });
  const o = owner();
  const r = new Rconn("br0<->test", { kind: "tcp", host: "127.0.0.1", port: s.port }, o);
  try {
    await pollUntil(() => s.state.accepted >= 2 && r.connected, "a second connection");
    assert.equal(r.nSuccesses, 2);
    assert.equal(r.backoff, 1, "a drop right away backs off 1 s");
  } finally {
    await r.stop();
    s.close();
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
  assert.equal(r.state, "void");
});

Deno.test("a refused connection backs off; a silent peer gets a probe, then is dropped", async () => {
  const refused = owner();
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  const r1 = new Rconn(
    "br0<->refused",
    { kind: "tcp", host: "127.0.0.1", port: deadPort },
    refused,
  );
  await pollUntil(() => r1.state === "backoff" && r1.lastError !== "", "a failed attempt");
  assert.match(r1.lastError, /refused/i);
  await r1.stop();

  const held: Deno.Conn[] = [];
  const s = server((c) => held.push(c));
  const o = owner();
  // A 1 s probe interval: silent for 1 s -> echo request (IDLE); 1 s more -> disconnected.
  const r = new Rconn("br0<->silent", { kind: "tcp", host: "127.0.0.1", port: s.port }, o, 8, 1);
  try {
    await pollUntil(() => o.echoes >= 1, "an inactivity probe");
    await pollUntil(() => r.lastError === "inactivity probe timed out", "the probe's timeout");
  } finally {
    await r.stop();
    s.close();
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
});
