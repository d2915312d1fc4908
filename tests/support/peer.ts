/**
 * The traffic ends of the real-interface tests and benches, run inside a
 * topology's namespaces (`ip netns exec NS deno run --allow-net peer.ts
 * MODE ...`; tests/support/traffic.ts starts them):
 *
 *   udp-echo HOST PORT     answer one datagram with the same bytes, exit.
 *   udp-ask HOST PORT      send a datagram every 200 ms (the echo may not
 *                          listen yet, or its first frames wait on ARP)
 *                          until one comes back; print it.
 *   tcp-serve PORT...      accept on each PORT until killed; per connection
 *                          read to EOF, then answer "BYTES SHA256\n".
 *                          Prints "listening" once every port is bound.
 *   tcp-send HOST PORT BYTES DEADLINE_MS
 *                          connect, send BYTES of a fixed pseudo-random
 *                          stream, half-close, read the server's answer;
 *                          prints "sent BYTES SHA256", "received LINE" and
 *                          "seconds S" (connect to answer). Exit 3 when the
 *                          connection is not made within DEADLINE_MS, 4
 *                          when the exchange then takes over 60 s.
 *   raw-send IFNAME HEX... send each frame HEX as it is on IFNAME through an
 *                          AF_PACKET socket (needs --allow-ffi).
 *
 * Both TCP ends hash what actually went over the wire, so a test compares
 * the SHA-256 the sender computed with the one the receiver computed. Any
 * other failure is one line on stderr and exit status 1; the UDP modes
 * give up after 20 s.
 */
import { createHash } from "node:crypto";

const CHUNK = 64 * 1024;
const TRANSFER_DEADLINE_MS = 60_000;
const UDP_DEADLINE_MS = 20_000;

function fail(why: string): never {
  console.error(`peer ${Deno.args[0]}: ${why}`);
  Deno.exit(1);
}

async function udpEcho(hostname: string, port: number): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname, port });
  const [data, from] = await sock.receive();
  await sock.send(data, from);
  sock.close();
}

async function udpAsk(hostname: string, port: number): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  const msg = new TextEncoder().encode(`hello ${Deno.pid}`);
  const reply = sock.receive();
  for (;;) {
    await sock.send(msg, { transport: "udp", hostname, port });
    const got = await Promise.race([reply, new Promise((r) => setTimeout(r, 200))]);
    if (got) {
      console.log(new TextDecoder().decode((got as [Uint8Array, Deno.Addr])[0]));
      break;
    }
  }
  sock.close();
}

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

async function tcpServe(ports: number[]): Promise<void> {
  const listeners = ports.map((port) => Deno.listen({ hostname: "0.0.0.0", port }));
  console.log("listening");
  await Promise.all(listeners.map(async (l) => {
    for await (const conn of l) serveConn(conn).catch(() => conn.close());
  }));
}

async function tcpSend(host: string, port: number, total: number, deadlineMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), deadlineMs);
  });
  const t0 = performance.now();
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
  console.log(`seconds ${((performance.now() - t0) / 1000).toFixed(3)}`);
}

async function rawSend(ifname: string, hexes: string[]): Promise<void> {
  const { openPacketSocket, PacketTxBatch, closePacketSocket } = await import(
    "../../src/netdev/mod.ts"
  );
  const sock = openPacketSocket(ifname, { vnetHdr: false, promisc: false });
  for (const hex of hexes) {
    const frame = hex.match(/../g)!.map((h) => parseInt(h, 16));
    const batch = new PacketTxBatch(1, frame.length, false);
    batch.data.set(frame);
    batch.push(frame.length);
    if (batch.flush(sock.fd) !== 1) fail(`send failed (errno ${batch.lastError})`);
  }
  closePacketSocket(sock);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

const [mode, ...rest] = Deno.args;
if (mode === "udp-echo" || mode === "udp-ask") {
  setTimeout(() => fail("timed out"), UDP_DEADLINE_MS);
  await (mode === "udp-echo" ? udpEcho : udpAsk)(rest[0], Number(rest[1]));
  Deno.exit(0);
} else if (mode === "tcp-serve" && rest.length > 0) {
  await tcpServe(rest.map(Number));
} else if (mode === "tcp-send" && rest.length === 4) {
  await tcpSend(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
} else if (mode === "raw-send" && rest.length >= 2) {
  await rawSend(rest[0], rest.slice(1));
} else {
  fail(
    "usage: peer.ts udp-echo|udp-ask HOST PORT | tcp-serve PORT... | " +
      "tcp-send HOST PORT BYTES DEADLINE_MS | raw-send IFNAME HEX...",
  );
}
