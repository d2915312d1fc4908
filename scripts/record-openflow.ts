/**
 * Records an OpenFlow conversation between ovs-ofctl and a switch: listens
 * on a unix socket, relays each connection to the switch's socket, and
 * writes every message, one per line, as `C HEX` (client to switch) or
 * `S HEX` (switch to client) into OUT_DIR/NNN.txt, one file per
 * connection. Used to capture the fixtures under fixtures/openflow/.
 *
 * Usage: deno run -A scripts/record-openflow.ts LISTEN_PATH SWITCH_PATH OUT_DIR
 */
const [listenPath, switchPath, outDir] = Deno.args;
if (!outDir) {
  console.error("usage: record-openflow.ts LISTEN_PATH SWITCH_PATH OUT_DIR");
  Deno.exit(2);
}
await Deno.mkdir(outDir, { recursive: true });
try {
  await Deno.remove(listenPath);
} catch { /* absent */ }
const listener = Deno.listen({ transport: "unix", path: listenPath });
let n = 0;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function relay(
  from: Deno.Conn,
  to: Deno.Conn,
  tag: string,
  lines: string[],
): Promise<void> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  for (;;) {
    let got: number | null;
    try {
      got = await from.read(chunk);
    } catch {
      got = null;
    }
    if (got === null) break;
    const joined = new Uint8Array(buf.length + got);
    joined.set(buf);
    joined.set(chunk.subarray(0, got), buf.length);
    buf = joined;
    while (buf.length >= 4) {
      const len = (buf[2] << 8) | buf[3];
      if (len < 8 || buf.length < len) break;
      lines.push(`${tag} ${hex(buf.subarray(0, len))}`);
      buf = buf.slice(len);
    }
    try {
      await to.write(chunk.subarray(0, got));
    } catch {
      break;
    }
  }
  try {
    to.closeWrite();
  } catch { /* closed */ }
}

for await (const client of listener) {
  const id = String(++n).padStart(3, "0");
  (async () => {
    const sw = await Deno.connect({ transport: "unix", path: switchPath });
    const lines: string[] = [];
    await Promise.all([relay(client, sw, "C", lines), relay(sw, client, "S", lines)]);
    await Deno.writeTextFile(`${outDir}/${id}.txt`, lines.join("\n") + "\n");
    client.close();
    sw.close();
  })();
}
