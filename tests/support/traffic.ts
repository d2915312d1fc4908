/**
 * Traffic between a topology's namespaces, through tests/support/peer.ts
 * run inside them: a UDP exchange, a TCP server and transfers whose
 * bytes are hashed at both ends, a raw frame. Every process is started
 * through the topology, so `destroy()` ends whatever a failed test left
 * running.
 */
import assert from "node:assert/strict";
import { readUntil } from "../poll.ts";
import { type VethTopology, type Where } from "./veth_topology.ts";

const PEER = new URL("./peer.ts", import.meta.url).pathname;

function peer(args: string[]): string[] {
  return [Deno.execPath(), "run", "--quiet", "-A", "--unstable-net", PEER, ...args];
}

async function finish(child: Deno.ChildProcess, what: string): Promise<string> {
  const out = await child.output();
  const dec = new TextDecoder();
  assert.ok(out.success, `${what} failed: ${dec.decode(out.stderr)}${dec.decode(out.stdout)}`);
  return dec.decode(out.stdout).trim();
}

/** A UDP exchange from `from` to an echo in `to` at `toIp`; returns the reply (`hello PID`). */
export async function udpExchange(
  topo: VethTopology,
  from: Where,
  to: Where,
  toIp: string,
  port: number,
): Promise<string> {
  const echo = topo.spawn(to, peer(["udp-echo", toIp, String(port)]));
  const ask = topo.spawn(from, peer(["udp-ask", toIp, String(port)]));
  const reply = await finish(ask, "udp-ask");
  await finish(echo, "udp-echo");
  return reply;
}

/** Sends `frame` (hex; or several, in order) as it is from interface `ifname` in `where`. */
export async function rawSend(
  topo: VethTopology,
  where: Where,
  ifname: string,
  frame: string | string[],
): Promise<void> {
  const frames = typeof frame === "string" ? [frame] : frame;
  await finish(topo.spawn(where, peer(["raw-send", ifname, ...frames])), "raw-send");
}

/**
 * Starts `argv` (a server) in `where` and resolves once its output says
 * `marker`; its output is drained from then on, so it never blocks on a
 * full pipe.
 */
export async function spawnReady(
  topo: VethTopology,
  where: Where,
  argv: string[],
  marker: string,
): Promise<Deno.ChildProcess> {
  const child = topo.spawn(where, argv);
  const { reader } = await readUntil(child.stdout, marker, argv.join(" "));
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => undefined);
  child.stderr.pipeTo(new WritableStream()).catch(() => undefined);
  return child;
}

/** Starts the TCP server in `where` on `ports`; resolves once it is listening. */
export async function startTcpServer(
  topo: VethTopology,
  where: Where,
  ports: number[],
): Promise<void> {
  await spawnReady(topo, where, peer(["tcp-serve", ...ports.map(String)]), "listening\n");
}

/** How a TCP transfer ended: the sender's exit status and what it printed. */
export interface Transfer {
  code: number;
  out: string;
}

/** Sends `bytes` from `from` to the server at `toIp`:`port`; the connection must be made within `deadlineMs`. */
export async function tcpSend(
  topo: VethTopology,
  from: Where,
  toIp: string,
  port: number,
  bytes: number,
  deadlineMs: number,
): Promise<Transfer> {
  const r = await topo.run(
    from,
    peer(["tcp-send", toIp, String(port), String(bytes), String(deadlineMs)]),
  );
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

/**
 * Asserts that the transfer went through whole: same size and SHA-256 at
 * both ends; returns its seconds (connect to the server's answer).
 */
export function assertDelivered(t: Transfer, bytes: number, what: string): number {
  assert.equal(t.code, 0, `${what}: ${t.out}`);
  const sent = /^sent (\d+) ([0-9a-f]{64})$/m.exec(t.out);
  const got = /^received (\d+) ([0-9a-f]{64})$/m.exec(t.out);
  const secs = /^seconds ([0-9.]+)$/m.exec(t.out);
  assert.ok(sent && got && secs, `${what}: ${t.out}`);
  assert.equal(Number(got[1]), bytes, `${what}: bytes received`);
  assert.equal(got[2], sent[2], `${what}: SHA-256 at the receiver differs from the sender's`);
  return Number(secs[1]);
}
