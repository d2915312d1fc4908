/**
 * Bad files and streams (issue 13): a cut or corrupt rx_pcap capture and a
 * stream peer that breaks the framing or vanishes mid-frame each get one
 * warning naming the port and the byte offset; the daemon keeps running
 * and its other ports keep forwarding. A file that is no pcap at all
 * refuses the start with one line naming the port and the file.
 */
import assert from "node:assert/strict";
import {
  encodePcap,
  PCAP_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  readPcap,
} from "../../src/packet/mod.ts";
import { unixctlTransact } from "../../src/unixctl/mod.ts";
import { pollUntil, pollUntilAsync } from "../poll.ts";
import { framed, FrameReader } from "../stream_peer.ts";
import { TestDaemon, udpif } from "./_run.ts";

const FRAME_LEN = 60;

/** A broadcast frame from MAC 50:54:00:00:00:`src`. */
function frame(src: number): Uint8Array {
  const f = new Uint8Array(FRAME_LEN);
  f.fill(0xff, 0, 6);
  f.set([0x50, 0x54, 0, 0, 0, src], 6);
  f.set([0x88, 0xb5], 12);
  return f;
}

async function appctl(d: TestDaemon, ...args: string[]): Promise<string> {
  const [method, ...params] = args;
  const r = await unixctlTransact(d.socket, method, params);
  if (r.error !== undefined) throw new Error(`${args.join(" ")}: ${r.error}`);
  return String(r.result);
}

/** Frames p3 has sent so far (its tx_pcap file, flushed per frame). */
function p3Frames(dir: string): Uint8Array[] {
  try {
    return readPcap(Deno.readFileSync(`${dir}/p3.pcap`)).packets.map((p) => p.data);
  } catch {
    return [];
  }
}

/** The daemon's warnings about `port`, each on one line. */
function warnings(d: TestDaemon, port: string): string[] {
  return d.logSoFar().split("\n").filter((l) => l.includes("|WARN|") && l.includes(`|${port}: `));
}

/** p2 still forwards: a frame received there floods out of p3. */
async function p2Forwards(d: TestDaemon, dir: string, src: number): Promise<void> {
  const before = p3Frames(dir).length;
  await appctl(
    d,
    "netdev-dummy/receive",
    "p2",
    [...frame(src)].map((b) => b.toString(16).padStart(2, "0")).join(""),
  );
  await pollUntil(() => p3Frames(dir).length > before, `p2's frame out of p3`);
  assert.deepEqual(p3Frames(dir).at(-1), frame(src));
  assert.match(await appctl(d, "dpctl/dump-flows"), /in_port\(2\)/);
}

/**
 * Starts a dummy-datapath daemon with p1 as `p1Spec`, a plain p2 and p3
 * recording to a pcap; every frame goes out of p3, from the first one on.
 */
async function startDaemon(dir: string, p1Spec: string): Promise<TestDaemon> {
  await Deno.writeTextFile(`${dir}/flows`, "actions=output:3\n");
  return TestDaemon.start(["--datapath-type", "dummy", "--flows", `${dir}/flows`], {
    ports: [p1Spec, "p2", `p3,tx_pcap=${dir}/p3.pcap`],
  });
}

const GOOD = encodePcap([1, 2, 3].map((i) => ({ data: frame(i) })));
const RECORD = PCAP_RECORD_HEADER_LEN + FRAME_LEN;

const CORRUPT: Array<{ what: string; bytes: Uint8Array; delivered: number; error: RegExp }> = [
  {
    what: "a capture cut inside its third record",
    bytes: GOOD.subarray(0, PCAP_HEADER_LEN + 2 * RECORD + 20),
    delivered: 2,
    error: new RegExp(`truncated pcap record at offset ${PCAP_HEADER_LEN + 2 * RECORD}$`),
  },
  {
    what: "a capture cut inside its second record header",
    bytes: GOOD.subarray(0, PCAP_HEADER_LEN + RECORD + 5),
    delivered: 1,
    error: new RegExp(`truncated pcap record header at offset ${PCAP_HEADER_LEN + RECORD}$`),
  },
  {
    what: "a second record longer than the snap length",
    bytes: (() => {
      const b = GOOD.slice();
      new DataView(b.buffer).setUint32(PCAP_HEADER_LEN + RECORD + 8, 70000, true);
      return b;
    })(),
    delivered: 1,
    error: new RegExp(
      `pcap record length 70000 past the snap length 65535 at offset ${PCAP_HEADER_LEN + RECORD}$`,
    ),
  },
];

for (const c of CORRUPT) {
  Deno.test(`rx_pcap with ${c.what}: the whole records go through, one warning names the port and offset`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "udpif-badio-" });
    try {
      await Deno.writeFile(`${dir}/in.pcap`, c.bytes);
      const d = await startDaemon(dir, `p1,type=pcap,rx_pcap=${dir}/in.pcap`);
      try {
        await pollUntil(() => p3Frames(dir).length >= c.delivered, "the capture's whole records");
        assert.deepEqual(
          p3Frames(dir),
          [1, 2, 3].slice(0, c.delivered).map(frame),
        );
        const w = warnings(d, "p1");
        assert.equal(w.length, 1, w.join("\n"));
        assert.ok(w[0].includes(`rx_pcap=${dir}/in.pcap: `), w[0]);
        assert.match(w[0], c.error);
        await p2Forwards(d, dir, 9);
      } finally {
        const { code } = await d.stop();
        assert.equal(code, 0);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("rx_pcap naming a file that is no pcap refuses the start with one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-badio-" });
  try {
    await Deno.writeFile(
      `${dir}/in.pcap`,
      new TextEncoder().encode("no capture here at all, sorry\n"),
    );
    const r = await udpif(
      ["start", "--datapath-type", "dummy", "--port", `p1,type=pcap,rx_pcap=${dir}/in.pcap`],
      { env: { UDPIF_RUNDIR: dir, UDPIF_CTL: "" } },
    );
    assert.equal(r.code, 2);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("udpif: "));
    assert.deepEqual(errors, [`udpif: p1: rx_pcap=${dir}/in.pcap: bad pcap magic 0x63206f6e`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Connects a peer to p1's listener. */
function connect(dir: string): Promise<Deno.UnixConn> {
  return Deno.connect({ transport: "unix", path: `${dir}/p1.sock` });
}

/** Sends one good frame on `conn` and waits for it out of p3. */
async function forwards(conn: Deno.Conn, dir: string, src: number): Promise<void> {
  const before = p3Frames(dir).length;
  await conn.write(framed([frame(src)]));
  await pollUntil(() => p3Frames(dir).length > before, `frame ${src} out of p3`);
  assert.deepEqual(p3Frames(dir).at(-1), frame(src));
}

/** Waits until the daemon closes `conn` (a read sees the end). */
async function closedByDaemon(conn: Deno.Conn): Promise<void> {
  const reader = new FrameReader(conn, "peer");
  await assert.rejects(reader.read(1), /peer closed/);
  conn.close();
}

Deno.test("a stream peer that breaks the framing or vanishes mid-frame loses only its connection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "udpif-badio-" });
  try {
    const d = await startDaemon(dir, `p1,pstream=punix:${dir}/p1.sock`);
    try {
      // A good frame, then a length no Ethernet frame has, then garbage.
      const bad = await connect(dir);
      await forwards(bad, dir, 1);
      await bad.write(new TextEncoder().encode("\x00\x05hellogarbage"));
      await pollUntil(() => warnings(d, "p1").length === 1, "the framing warning");
      assert.match(
        warnings(d, "p1")[0],
        new RegExp(
          `\\|p1: stream frame length 5 shorter than an Ethernet header at offset ${
            2 + FRAME_LEN
          }, closing connection$`,
        ),
      );
      await closedByDaemon(bad);

      // The listener still accepts, and the new connection forwards.
      const next = await connect(dir);
      await forwards(next, dir, 2);

      // A peer that sends half a frame and goes away.
      const vanishing = await connect(dir);
      await forwards(vanishing, dir, 3);
      await vanishing.write(framed([frame(4)]).subarray(0, 20));
      vanishing.close();
      await pollUntil(() => warnings(d, "p1").length === 2, "the mid-frame warning");
      assert.match(
        warnings(d, "p1")[1],
        new RegExp(
          `\\|p1: stream closed mid-frame at offset ${
            2 + FRAME_LEN
          } \\(20 bytes of a frame\\), closing connection$`,
        ),
      );

      // The surviving connection, a new one and the other ports go on.
      await forwards(next, dir, 5);
      const last = await connect(dir);
      await forwards(last, dir, 6);
      await p2Forwards(d, dir, 9);
      await pollUntilAsync(
        async () => (await appctl(d, "coverage/show")).includes("netdev_dummy_stream_error"),
        "the stream error counter",
      );
      next.close();
      last.close();
      assert.equal(warnings(d, "p1").length, 2, warnings(d, "p1").join("\n"));
    } finally {
      const { code } = await d.stop();
      assert.equal(code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
