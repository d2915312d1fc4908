/**
 * The connection manager (OVS's ofproto/connmgr.c with the stream side of
 * lib/rconn.c): the OpenFlow endpoints of a bridge. The management socket
 * `RUNDIR/BRIDGE.mgmt` (a unix socket, where `ovs-ofctl ... BRIDGE` finds
 * it when OVS_RUNDIR points at udpif's run directory) always; passive TCP
 * listeners from `--listen ptcp:PORT[:IP]`; and the controllers
 * (`--controller`, `set-controller`): active targets each kept connected
 * by an `Rconn` (rconn.ts), passive ones listened on like `--listen`.
 * Each stream, accepted or connected, becomes an `Ofconn`: the manager frames the byte stream into messages, lets the
 * ofconn answer each in order, and writes the replies. A stream whose
 * framing is broken (a length below the header's) is closed, as OVS's
 * vconn does; any other bad message only gets an error reply.
 *
 * Asynchronous messages go to every connection that wants them
 * (connmgr_send_async_msg): flow-removed as rules leave the tables, and
 * packet-ins as the handlers' controller upcalls arrive (the switch's
 * `watchPacketIns`), each encoded by the connection for its version,
 * packet-in format, controller id, role and async config.
 *
 * Thread-safety: main thread. Reads are async; each message is handled to
 * completion (tables changed and published) before the next is read.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import {
  encodeHeader,
  finishMessage,
  frameLength,
  OFPT_ECHO_REQUEST,
  WireWriter,
} from "../openflow/mod.ts";
import { Ofconn, type OfconnKind, SUPPORTED_VERSIONS } from "./ofconn.ts";
import type { OfSwitch } from "./of_switch.ts";
import { RoleElection } from "./role_election.ts";
import { describeActive, Rconn } from "./rconn.ts";
import { describeListenTarget, type ListenTarget, parseControllerTarget } from "./of_target.ts";
import type { PacketIn } from "./packet_in_queue.ts";

const log = getLogger("connmgr");
const covAccept = coverageCounter("connmgr_accept");
const covPacketIn = coverageCounter("connmgr_packet_in");

/** Largest message: OpenFlow's 16-bit length. */
const READ_CHUNK = 65536;

/** An accepted connection: the stream, its protocol state, and its writes in order. */
interface Entry {
  conn: Deno.Conn;
  ofconn: Ofconn;
  kind: OfconnKind;
  /** The last queued write; replies and async messages go out one after another. */
  tx: Promise<void>;
  /** The controller connection this stream belongs to, for active targets. */
  rconn?: Rconn;
}

/** One configured controller and what keeps it: an rconn or a listener. */
interface Controller {
  text: string;
  rconn?: Rconn;
  listener?: Deno.Listener;
}

export class Connmgr {
  readonly #listeners: { target: ListenTarget; listener: Deno.Listener; kind: OfconnKind }[] = [];
  readonly #conns = new Set<Entry>();
  #controllers: Controller[] = [];
  #closed = false;
  /** The controller roles, shared by every connection of this bridge. */
  readonly #election = new RoleElection();

  constructor(private readonly sw: OfSwitch) {
    sw.watchRemovals((rule, reason, nowMs) => {
      for (const e of this.#conns) {
        const msg = e.ofconn.flowRemoved(rule, reason, nowMs);
        if (msg) this.#send(e, [msg]).catch(() => {});
      }
    });
    this.#stopPacketIns = sw.watchPacketIns((pin) => this.sendPacketIn(pin));
    sw.watchPorts((reason, port) => {
      for (const e of this.#conns) {
        const msg = e.ofconn.portStatus(reason, port);
        if (msg) this.#send(e, [msg]).catch(() => {});
      }
    });
  }

  readonly #stopPacketIns: () => void;

  /** connmgr_send_async_msg for a packet-in: each connection that wants it gets its own encoding. */
  sendPacketIn(pin: PacketIn): void {
    for (const e of this.#conns) {
      const msg = e.ofconn.packetIn(pin);
      if (!msg) continue;
      covPacketIn.inc();
      this.#send(e, [msg]).catch(() => {});
    }
  }

  /** Queues `msgs` after whatever the connection is already writing. */
  #send(e: Entry, msgs: Uint8Array[]): Promise<void> {
    e.tx = e.tx.then(async () => {
      for (const m of msgs) {
        let off = 0;
        while (off < m.length) off += await e.conn.write(m.subarray(off));
      }
    });
    return e.tx;
  }

  /**
   * Starts listening; throws (naming the target) when the socket cannot be
   * made. The management socket's stale file from a previous run is removed.
   */
  async listen(target: ListenTarget, kind: OfconnKind): Promise<Deno.Listener> {
    let listener: Deno.Listener;
    try {
      if (target.kind === "punix") {
        await Deno.remove(target.path).catch(() => {});
        listener = Deno.listen({ transport: "unix", path: target.path });
      } else {
        listener = Deno.listen({ transport: "tcp", port: target.port, hostname: target.host });
      }
    } catch (e) {
      throw new Error(
        `${describeListenTarget(target)}: cannot listen (${e instanceof Error ? e.message : e})`,
      );
    }
    this.#listeners.push({ target, listener, kind });
    // With ptcp:0 the system picks the port: say which.
    const bound = listener.addr.transport === "tcp"
      ? { ...target, port: (listener.addr as Deno.NetAddr).port }
      : target;
    log.info(`${describeListenTarget(bound as ListenTarget)}: listening`);
    this.#accept(listener, target, kind);
    return listener;
  }

  /** Stops one listener (a passive controller target that was removed). */
  async #unlisten(listener: Deno.Listener): Promise<void> {
    const i = this.#listeners.findIndex((l) => l.listener === listener);
    if (i < 0) return;
    const [{ target }] = this.#listeners.splice(i, 1);
    this.#unlistened.add(listener);
    try {
      listener.close();
    } catch { /* closed */ }
    if (target.kind === "punix") await Deno.remove(target.path).catch(() => {});
  }

  readonly #unlistened = new WeakSet<Deno.Listener>();

  async #accept(listener: Deno.Listener, target: ListenTarget, kind: OfconnKind): Promise<void> {
    try {
      for await (const conn of listener) {
        covAccept.inc();
        const name = target.kind === "punix"
          ? `${target.path}<->`
          : `tcp:${(conn.remoteAddr as Deno.NetAddr).hostname}:${
            (conn.remoteAddr as Deno.NetAddr).port
          }`;
        this.#open(conn, name, kind);
      }
    } catch (e) {
      if (!this.#closed && !this.#unlistened.has(listener)) {
        log.warn(`${describeListenTarget(target)}: accept failed: ${e}`);
      }
    }
  }

  /** connmgr's want_packet_in_on_miss count, published to the translations. */
  #updateMissWanted(): void {
    let n = 0;
    for (const e of this.#conns) if (e.ofconn.wantsMissPacketIns()) n++;
    if (n !== this.#missWanted) this.sw.setMissWanted(this.#missWanted = n);
  }

  #missWanted = 0;

  /** Serves one stream as an Ofconn until it ends, then forgets it. */
  #open(conn: Deno.Conn, name: string, kind: OfconnKind, rconn?: Rconn): Promise<void> {
    const entry: Entry = {
      conn,
      ofconn: new Ofconn(name, this.sw, kind, this.#election),
      kind,
      tx: Promise.resolve(),
      rconn,
    };
    this.#conns.add(entry);
    this.#updateMissWanted();
    return this.#serve(entry).finally(() => {
      this.#conns.delete(entry);
      entry.ofconn.close();
      this.#updateMissWanted();
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  }

  async #serve(entry: Entry): Promise<void> {
    const { conn, ofconn } = entry;
    const write = (msgs: Uint8Array[]) => this.#send(entry, msgs);
    try {
      await write([ofconn.hello()]);
      let buf = new Uint8Array(0);
      const chunk = new Uint8Array(READ_CHUNK);
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) return;
        const joined = new Uint8Array(buf.length + n);
        joined.set(buf);
        joined.set(chunk.subarray(0, n), buf.length);
        buf = joined;
        for (;;) {
          const len = frameLength(buf);
          if (len < 0) {
            log.warn(`${ofconn.name}: message length below the header's size, closing`);
            return;
          }
          if (len === 0) break;
          const msg = buf.slice(0, len);
          buf = buf.subarray(len);
          entry.rconn?.received();
          await write(ofconn.receive(msg));
          this.#updateMissWanted();
          if (ofconn.state === "closed") return;
        }
      }
    } catch (e) {
      if (this.#closed) return;
      // A peer that goes away is normal; anything else is a bug worth its stack.
      const gone = e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe;
      log.info(
        `${ofconn.name}: connection dropped: ${gone || !(e instanceof Error) ? e : e.stack}`,
      );
    }
  }

  /**
   * Replaces the controllers with `targets` (ovs-vsctl set-controller).
   * Every target is checked first: a bad one throws, naming it, and
   * nothing changes. Targets kept from before keep their connection.
   */
  async setControllers(targets: string[]): Promise<void> {
    const parsed = [...new Set(targets)].map((text) => {
      try {
        return { text, spec: parseControllerTarget(text) };
      } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : e}`);
      }
    });
    const keep = new Map(this.#controllers.map((c) => [c.text, c]));
    const next: Controller[] = [];
    const opened: Controller[] = [];
    try {
      for (const { text, spec } of parsed) {
        const old = keep.get(text);
        if (old) {
          keep.delete(text);
          next.push(old);
          continue;
        }
        const c: Controller = { text };
        if (spec.active) {
          c.rconn = new Rconn(
            `${this.sw.desc().datapath}<->${describeActive(spec.target)}`,
            spec.target,
            {
              serve: (conn, rconn) => this.#open(conn, rconn.name, "primary", rconn),
              sendEchoRequest: (rconn) => this.#echo(rconn),
            },
          );
        } else {
          c.listener = await this.listen(spec.target, "primary");
        }
        opened.push(c);
        next.push(c);
      }
    } catch (e) {
      for (const c of opened) await this.#stopController(c);
      throw e;
    }
    for (const c of keep.values()) await this.#stopController(c);
    this.#controllers = next;
  }

  /** The configured controller targets, in order (ovs-vsctl get-controller). */
  controllers(): string[] {
    return this.#controllers.map((c) => c.text);
  }

  /** Each controller's connection state (OVSDB's Controller status columns). */
  controllerStatus(): {
    target: string;
    connected: boolean;
    state: string;
    role: string;
    lastError: string;
    secSinceConnect?: number;
    secSinceDisconnect?: number;
  }[] {
    const now = Date.now();
    return this.#controllers.map((c) => {
      const r = c.rconn;
      const entry = [...this.#conns].find((e) => e.rconn !== undefined && e.rconn === r);
      const connected = r ? r.connected : [...this.#conns].some((e) => e.kind === "primary");
      return {
        target: c.text,
        connected,
        state: r ? r.state.toUpperCase() : "LISTENING",
        role: entry ? (entry.ofconn.role === "equal" ? "other" : entry.ofconn.role) : "other",
        lastError: r?.lastError ?? "",
        secSinceConnect: r?.lastConnectedMs
          ? Math.floor((now - r.lastConnectedMs) / 1000)
          : undefined,
        secSinceDisconnect: r && !r.connected
          ? Math.floor((now - r.lastDisconnectedMs) / 1000)
          : undefined,
      };
    });
  }

  /** Whether any controller is connected (connmgr_is_any_controller_connected). */
  anyControllerConnected(): boolean {
    return this.#controllers.some((c) => c.rconn?.connected) ||
      [...this.#conns].some((e) =>
        e.kind === "primary" && e.rconn === undefined && this.#controllers.some((c) => c.listener)
      );
  }

  /** connmgr_failure_duration in seconds: 0 without active controllers or while one is connected. */
  failureDurationS(): number {
    const now = Date.now();
    const rconns = this.#controllers.flatMap((c) => (c.rconn ? [c.rconn] : []));
    if (!rconns.length) return 0;
    return Math.floor(Math.min(...rconns.map((r) => r.failureDurationMs(now))) / 1000);
  }

  /** The largest inactivity probe interval of the active controllers, in seconds. */
  maxProbeIntervalS(): number {
    return Math.max(0, ...this.#controllers.map((c) => c.rconn?.probeIntervalS ?? 0));
  }

  async #stopController(c: Controller): Promise<void> {
    await c.rconn?.stop();
    if (c.listener) await this.#unlisten(c.listener);
  }

  /** rconn's inactivity probe: an echo request at the connection's version. */
  #echo(rconn: Rconn): void {
    for (const e of this.#conns) {
      if (e.rconn !== rconn) continue;
      const w = new WireWriter();
      const version = e.ofconn.version || Math.max(...SUPPORTED_VERSIONS);
      encodeHeader(w, version, OFPT_ECHO_REQUEST, 0);
      this.#send(e, [finishMessage(w)]).catch(() => {});
    }
  }

  /** Closes every listener and connection; unix socket files are removed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopPacketIns();
    for (const c of this.#controllers) await c.rconn?.stop();
    for (const { listener, target } of this.#listeners) {
      try {
        listener.close();
      } catch { /* closed */ }
      if (target.kind === "punix") await Deno.remove(target.path).catch(() => {});
    }
    for (const { conn } of this.#conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
}
