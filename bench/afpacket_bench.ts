/**
 * Why system ports receive with recvmmsg: receive rate and wake-up
 * latency of the three ways to take frames off an AF_PACKET socket, on a
 * veth pair of the bench's own (unique names, removed at the end; needs
 * root).
 *
 * - recvmmsg: bursts of 32 copied into user buffers (what the PMD does).
 * - TPACKET_V2: a PACKET_MMAP ring read in place, one frame per slot; the
 *   kernel wakes the reader per frame.
 * - TPACKET_V3: a ring of blocks read in place; the kernel hands a block
 *   over when it is full or its retire timer (here 1 ms, the least) fires.
 *
 * Rate: a worker (_afpacket_sender.ts) blasts 64-byte frames into one end
 * for RATE_MS per method; the other end is drained by the method, sleeping
 * in poll(2) when empty. Latency: one frame sent on this thread, then
 * poll(2) + receive until it arrives, median of LAT_ROUNDS. Also reports
 * whether PACKET_VNET_HDR (offloads) can be set with each ring.
 * Prints one line: `afpacket: recvmmsg_rx_mpps=.. v2_rx_mpps=.. ...`.
 */
import {
  closeFd,
  errno,
  FdPoller,
  libc,
  openPacketSocket,
  PacketRxBatch,
  type PacketSocket,
  PacketTxBatch,
} from "../src/netdev/mod.ts";

const RATE_MS = 1000;
const LAT_ROUNDS = 200;
const SOL_PACKET = 263;
const PACKET_VERSION = 10;
const PACKET_RX_RING = 5;
const TPACKET_V2 = 1;
const TPACKET_V3 = 2;
const TP_STATUS_USER = 1;
const PROT_RW = 3;
const MAP_SHARED = 1;
const BLOCK_SIZE = 1 << 22;
const BLOCK_NR = 8;
const FRAME_SIZE = 2048;

interface Receiver {
  /** Takes what is there without blocking; returns the frames taken. */
  drain(): number;
  close(): void;
}

function setInt(fd: number, opt: number, v: number): number {
  return libc().setsockopt(fd, SOL_PACKET, opt, new Uint8Array(new Int32Array([v]).buffer), 4);
}

function recvmmsgReceiver(s: PacketSocket): Receiver {
  const b = new PacketRxBatch(32, 2048, false);
  return {
    drain: () => {
      let total = 0;
      for (let n = b.recv(s.fd); n > 0; n = b.recv(s.fd)) total += n;
      return total;
    },
    close: () => {},
  };
}

/** Sets up and maps the socket's rx ring; `unmap` releases it. */
function mapRing(
  s: PacketSocket,
  req: Uint8Array<ArrayBuffer>,
): { ring: Uint32Array; unmap: () => void } {
  if (libc().setsockopt(s.fd, SOL_PACKET, PACKET_RX_RING, req, req.length) < 0) {
    throw new Error(`PACKET_RX_RING: errno ${errno()}`);
  }
  const size = BLOCK_SIZE * BLOCK_NR;
  const p = libc().mmap(null, BigInt(size), PROT_RW, MAP_SHARED, s.fd, 0n);
  if (!p || Deno.UnsafePointer.value(p) === 0xffffffffffffffffn) throw new Error("mmap failed");
  return {
    ring: new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(p, size)),
    unmap: () => libc().munmap(p, BigInt(size)),
  };
}

/** tpacket_req: block size, block count, frame size, frame count. */
function ringV2(s: PacketSocket): Receiver {
  setInt(s.fd, PACKET_VERSION, TPACKET_V2);
  const nFrames = (BLOCK_SIZE / FRAME_SIZE) * BLOCK_NR;
  const { ring, unmap } = mapRing(
    s,
    new Uint8Array(new Uint32Array([BLOCK_SIZE, BLOCK_NR, FRAME_SIZE, nFrames]).buffer),
  );
  let at = 0;
  return {
    drain: () => {
      let n = 0;
      // tpacket2_hdr: tp_status is the slot's first word.
      while (ring[at * (FRAME_SIZE / 4)] & TP_STATUS_USER) {
        ring[at * (FRAME_SIZE / 4)] = 0;
        at = (at + 1) % nFrames;
        n++;
      }
      return n;
    },
    close: unmap,
  };
}

/** tpacket_req3: ..., retire_blk_tov (ms), sizeof_priv, feature_req_word. */
function ringV3(s: PacketSocket): Receiver {
  setInt(s.fd, PACKET_VERSION, TPACKET_V3);
  const nFrames = (BLOCK_SIZE / FRAME_SIZE) * BLOCK_NR;
  const { ring, unmap } = mapRing(
    s,
    new Uint8Array(new Uint32Array([BLOCK_SIZE, BLOCK_NR, FRAME_SIZE, nFrames, 1, 0, 0]).buffer),
  );
  let block = 0;
  return {
    drain: () => {
      let n = 0;
      // tpacket_block_desc: block_status at word 2, num_pkts at word 3.
      for (;;) {
        const w = block * (BLOCK_SIZE / 4);
        if ((ring[w + 2] & TP_STATUS_USER) === 0) return n;
        n += ring[w + 3];
        ring[w + 2] = 0;
        block = (block + 1) % BLOCK_NR;
      }
    },
    close: unmap,
  };
}

const METHODS: Record<string, (s: PacketSocket) => Receiver> = {
  recvmmsg: recvmmsgReceiver,
  v2: ringV2,
  v3: ringV3,
};

function run(cmd: string): void {
  const out = new Deno.Command("ip", { args: cmd.split(" "), stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(`ip ${cmd}: ${new TextDecoder().decode(out.stderr).trim()}`);
}

function rate(rxIf: string, method: string): number {
  const s = openPacketSocket(rxIf, { vnetHdr: false, promisc: true });
  const r = METHODS[method](s);
  const poller = new FdPoller(1);
  poller.add(s.fd);
  r.drain();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < RATE_MS) {
    const got = r.drain();
    if (got === 0) poller.poll(10);
    n += got;
  }
  const secs = (performance.now() - t0) / 1000;
  r.close();
  closeFd(s.fd);
  return n / secs / 1e6;
}

function latency(txIf: string, rxIf: string, method: string): number {
  const rx = openPacketSocket(rxIf, { vnetHdr: false, promisc: true });
  const tx = openPacketSocket(txIf, { vnetHdr: false, promisc: false });
  const r = METHODS[method](rx);
  const batch = new PacketTxBatch(1, 64, false);
  batch.data.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  const poller = new FdPoller(1);
  poller.add(rx.fd);
  r.drain();
  const us: number[] = [];
  for (let i = 0; i < LAT_ROUNDS; i++) {
    const t0 = performance.now();
    batch.push(64);
    batch.flush(tx.fd);
    let got = 0;
    while (got === 0 && performance.now() - t0 < 100) {
      got = r.drain();
      if (got === 0) poller.poll(100);
    }
    us.push((performance.now() - t0) * 1000);
  }
  r.close();
  closeFd(rx.fd);
  closeFd(tx.fd);
  us.sort((a, b) => a - b);
  return us[us.length >> 1];
}

function vnetWithRing(ifname: string, version: number): string {
  const s = openPacketSocket(ifname, { vnetHdr: true, promisc: false });
  try {
    if (setInt(s.fd, PACKET_VERSION, version) < 0) return `version_errno_${errno()}`;
    const nFrames = (BLOCK_SIZE / FRAME_SIZE) * BLOCK_NR;
    const words = version === TPACKET_V3
      ? [BLOCK_SIZE, BLOCK_NR, FRAME_SIZE, nFrames, 1, 0, 0]
      : [BLOCK_SIZE, BLOCK_NR, FRAME_SIZE, nFrames];
    const req = new Uint8Array(new Uint32Array(words).buffer);
    if (libc().setsockopt(s.fd, SOL_PACKET, PACKET_RX_RING, req, req.length) < 0) {
      return `errno_${errno()}`;
    }
    return "ok";
  } finally {
    closeFd(s.fd);
  }
}

if (Deno.uid() !== 0) {
  console.log("afpacket: skipped (needs root for a veth pair)");
  Deno.exit(0);
}
const a = `afb${Deno.pid % 100000}a`, b = `afb${Deno.pid % 100000}b`;
run(`link add ${a} type veth peer name ${b}`);
try {
  for (const i of [a, b]) {
    await Deno.writeTextFile(`/proc/sys/net/ipv6/conf/${i}/disable_ipv6`, "1").catch(() => {});
    run(`link set ${i} up`);
  }
  const figures: string[] = [];
  const stop = new SharedArrayBuffer(4);
  const sender = new Worker(new URL("./_afpacket_sender.ts", import.meta.url).href, {
    type: "module",
  });
  const sentP = new Promise<number>((resolve) => sender.onmessage = (e) => resolve(e.data));
  sender.postMessage({ ifname: a, stop });
  const t0 = performance.now();
  for (const m of Object.keys(METHODS)) figures.push(`${m}_rx_mpps=${rate(b, m).toFixed(3)}`);
  Atomics.store(new Int32Array(stop), 0, 1);
  const sent = await sentP;
  figures.push(`sender_mpps=${(sent / (performance.now() - t0) / 1000).toFixed(3)}`);
  for (const m of Object.keys(METHODS)) {
    figures.push(`${m}_wake_us=${latency(a, b, m).toFixed(0)}`);
  }
  figures.push(`vnet_hdr_v2=${vnetWithRing(b, TPACKET_V2)}`);
  figures.push(`vnet_hdr_v3=${vnetWithRing(b, TPACKET_V3)}`);
  console.log(`afpacket: ${figures.join(" ")}`);
} finally {
  run(`link del ${a}`);
}
