/**
 * The TCP ends of the real-interface tests, run inside a host's network
 * namespace (`ip netns exec NS deno run --allow-net tcp_peer.ts ...`):
 *
 *   serve PORT...          accept on each PORT until killed; per connection
 *                          read to EOF, then answer "BYTES SHA256\n". Prints
 *                          "listening" once every port is bound.
 *   send HOST PORT BYTES DEADLINE_MS
 *                          connect, send BYTES of a fixed pseudo-random
 *                          stream, half-close, read the server's answer;
 *                          prints "sent BYTES SHA256" then "received LINE".
 *                          Exit 3 when the connection is not made within
 *                          DEADLINE_MS, 4 when the exchange then takes
 *                          over 60 s, 1 on any other failure.
 *
 * Both ends hash what actually went over the wire, so the test compares
 * the SHA-256 the sender computed with the one the receiver computed.
 */
import { createHash } from "node:crypto";

const CHUNK = 64 * 1024;
const TRANSFER_DEADLINE_MS = 60_000;

async function serveConn(conn: Deno.TcpConn): Promise<void> {
  const hash = createHash("sha256");
  let bytes = 0;
  const buf = new Uint8Array(CHUNK);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    bytes += n;
    hash.update(buf.subarray(0, n));
  }
  await writeAll(conn, new TextEncoder().encode(`${bytes} ${hash.digest("hex")}\n`));
  conn.close();
}

async function serve(ports: number[]): Promise<void> {
  const listeners = ports.map((port) => Deno.listen({ hostname: "0.0.0.0", port }));
  console.log("listening");
  await Promise.all(listeners.map(async (l) => {
    for await (const conn of l) serveConn(conn).catch(() => conn.close());
  }));
}

async function send(host: string, port: number, total: number, deadlineMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), deadlineMs);
  });
  let conn: Deno.TcpConn;
  try {
    conn = await Promise.race([Deno.connect({ hostname: host, port }), timeout]);
  } catch (e) {
    console.log(`connect ${host}:${port}: ${(e as Error).message}`);
    Deno.exit((e as Error).message === "timeout" ? 3 : 1);
  } finally {
    clearTimeout(timer);
  }
  // The transfer itself is bounded too: a stalled connection fails the
  // test naming what stalled instead of hanging it.
  const stall = setTimeout(() => {
    console.log(`transfer to ${host}:${port} did not finish within ${TRANSFER_DEADLINE_MS} ms`);
    Deno.exit(4);
  }, TRANSFER_DEADLINE_MS);
  const hash = createHash("sha256");
  const chunk = new Uint8Array(CHUNK);
  let state = 0x12345678;
  let left = total;
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    for (let i = 0; i < n; i++) {
      // xorshift32: a fixed, incompressible stream without a big buffer.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk[i] = state & 0xff;
    }
    hash.update(chunk.subarray(0, n));
    await writeAll(conn, chunk.subarray(0, n));
    left -= n;
  }
  await conn.closeWrite();
  console.log(`sent ${total} ${hash.digest("hex")}`);
  const reply = new Uint8Array(256);
  let got = 0;
  for (;;) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) break;
    got += n;
  }
  conn.close();
  clearTimeout(stall);
  console.log(`received ${new TextDecoder().decode(reply.subarray(0, got)).trim()}`);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

const [mode, ...rest] = Deno.args;
if (mode === "serve" && rest.length > 0) {
  await serve(rest.map(Number));
} else if (mode === "send" && rest.length === 4) {
  await send(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else {
  console.error("usage: tcp_peer.ts serve PORT... | send HOST PORT BYTES DEADLINE_MS");
  Deno.exit(2);
}
