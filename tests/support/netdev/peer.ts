/**
 * Traffic endpoints that system-port tests run inside their namespaces
 * (`ip netns exec NS deno run --allow-net peer.ts MODE HOST PORT [BYTES]`):
 *
 * - `udp-echo`: answers one datagram with the same bytes, then exits.
 * - `udp-ask`: sends a datagram every 200 ms (the echo may not listen
 *   yet, or its first frames may wait on ARP) until one comes back;
 *   prints it.
 * - `tcp-sink`: accepts one connection, reads to its end, writes back
 *   the byte count as text.
 * - `tcp-send`: connects (retrying while refused), sends BYTES bytes,
 *   closes its write side, prints the count the sink reports.
 * - `raw-send IFNAME - HEX`: sends the frame HEX as it is on interface
 *   IFNAME through an AF_PACKET socket (needs --allow-ffi).
 *
 * Every mode gives up after 20 s with a one-line error and exit status 1.
 */
const [mode, hostname, portText, bytesText] = Deno.args;
const port = Number(portText);
const deadline = Date.now() + 20_000;
const fail = (why: string): never => {
  console.error(`peer ${mode}: ${why}`);
  Deno.exit(1);
};
setTimeout(() => fail("timed out"), 20_000);

if (mode === "udp-echo") {
  const sock = Deno.listenDatagram({ transport: "udp", hostname, port });
  const [data, from] = await sock.receive();
  await sock.send(data, from);
  sock.close();
} else if (mode === "udp-ask") {
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  const msg = new TextEncoder().encode(`hello ${Deno.pid}`);
  const reply = sock.receive();
  while (true) {
    await sock.send(msg, { transport: "udp", hostname, port });
    const got = await Promise.race([reply, new Promise((r) => setTimeout(r, 200))]);
    if (got) {
      console.log(new TextDecoder().decode((got as [Uint8Array, Deno.Addr])[0]));
      break;
    }
  }
  sock.close();
} else if (mode === "tcp-sink") {
  const listener = Deno.listen({ hostname, port });
  const conn = await listener.accept();
  let n = 0;
  const buf = new Uint8Array(1 << 16);
  for (let r = await conn.read(buf); r !== null; r = await conn.read(buf)) n += r;
  await conn.write(new TextEncoder().encode(String(n)));
  conn.close();
  listener.close();
} else if (mode === "tcp-send") {
  let conn: Deno.TcpConn | undefined;
  while (!conn) {
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (e) {
      if (!(e instanceof Deno.errors.ConnectionRefused) || Date.now() > deadline) {
        fail(String(e));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const total = Number(bytesText);
  const chunk = new Uint8Array(1 << 16).fill(0x5a);
  const t0 = performance.now();
  for (let sent = 0; sent < total;) {
    sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  }
  await conn.closeWrite();
  const buf = new Uint8Array(64);
  const r = await conn.read(buf);
  const secs = (performance.now() - t0) / 1000;
  console.log(`${new TextDecoder().decode(buf.subarray(0, r ?? 0))} ${secs.toFixed(3)}`);
  conn.close();
} else if (mode === "raw-send") {
  const { openPacketSocket, PacketTxBatch, closePacketSocket } = await import(
    "../../../src/netdev/mod.ts"
  );
  const sock = openPacketSocket(hostname, { vnetHdr: false, promisc: false });
  const frame = bytesText.match(/../g)!.map((h) => parseInt(h, 16));
  const batch = new PacketTxBatch(1, frame.length, false);
  batch.data.set(frame);
  batch.push(frame.length);
  if (batch.flush(sock.fd) !== 1) fail(`send failed (errno ${batch.lastError})`);
  closePacketSocket(sock);
} else {
  fail(`unknown mode "${mode}"`);
}
Deno.exit(0);
