/**
 * The connection manager (OVS's ofproto/connmgr.c with the stream side of
 * lib/rconn.c): the OpenFlow endpoints of a bridge. The management socket
 * `RUNDIR/BRIDGE.mgmt` (a unix socket, where `ovs-ofctl ... BRIDGE` finds
 * it when OVS_RUNDIR points at udpif's run directory) always; passive TCP
 * listeners from `--listen ptcp:PORT[:IP]`. Each accepted stream becomes
 * an `Ofconn`: the manager frames the byte stream into messages, lets the
 * ofconn answer each in order, and writes the replies. A stream whose
 * framing is broken (a length below the header's) is closed, as OVS's
 * vconn does; any other bad message only gets an error reply.
 *
 * Thread-safety: main thread. Reads are async; each message is handled to
 * completion (tables changed and published) before the next is read.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";
import { frameLength } from "../openflow/mod.ts";
import { Ofconn, type OfconnKind, type OfSwitch } from "./ofconn.ts";
import { RoleElection } from "./role_election.ts";

const log = getLogger("connmgr");
const covAccept = coverageCounter("connmgr_accept");

/** Largest message: OpenFlow's 16-bit length. */
const READ_CHUNK = 65536;

export type ListenTarget =
  | { kind: "punix"; path: string }
  | { kind: "ptcp"; port: number; host: string };

/** Parses `ptcp:PORT[:IP]` or `punix:PATH` (OVS's passive stream names). */
export function parseListenTarget(text: string): ListenTarget {
  const tcp = /^ptcp:(\d+)(?::(.+))?$/.exec(text);
  if (tcp) {
    const port = Number(tcp[1]);
    if (port > 65535) throw new Error(`${text}: bad port number`);
    const host = tcp[2] ?? "0.0.0.0";
    return { kind: "ptcp", port, host: host.replace(/^\[(.*)\]$/, "$1") };
  }
  const unix = /^punix:(.+)$/.exec(text);
  if (unix) return { kind: "punix", path: unix[1] };
  throw new Error(`${text}: not a passive OpenFlow target (ptcp:PORT[:IP] or punix:PATH)`);
}

function describe(t: ListenTarget): string {
  return t.kind === "punix" ? `punix:${t.path}` : `ptcp:${t.port}:${t.host}`;
}

/** An accepted connection: the stream, its protocol state, and its writes in order. */
interface Entry {
  conn: Deno.Conn;
  ofconn: Ofconn;
  /** The last queued write; replies and async messages go out one after another. */
  tx: Promise<void>;
}

export class Connmgr {
  readonly #listeners: { target: ListenTarget; listener: Deno.Listener; kind: OfconnKind }[] = [];
  readonly #conns = new Set<Entry>();
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
  async listen(target: ListenTarget, kind: OfconnKind): Promise<void> {
    let listener: Deno.Listener;
    try {
      if (target.kind === "punix") {
        await Deno.remove(target.path).catch(() => {});
        listener = Deno.listen({ transport: "unix", path: target.path });
      } else {
        listener = Deno.listen({ transport: "tcp", port: target.port, hostname: target.host });
      }
    } catch (e) {
      throw new Error(`${describe(target)}: cannot listen (${e instanceof Error ? e.message : e})`);
    }
    this.#listeners.push({ target, listener, kind });
    // With ptcp:0 the system picks the port: say which.
    const bound = listener.addr.transport === "tcp"
      ? { ...target, port: (listener.addr as Deno.NetAddr).port }
      : target;
    log.info(`${describe(bound as ListenTarget)}: listening`);
    this.#accept(listener, target, kind);
  }

  async #accept(listener: Deno.Listener, target: ListenTarget, kind: OfconnKind): Promise<void> {
    try {
      for await (const conn of listener) {
        covAccept.inc();
        const name = target.kind === "punix"
          ? `${target.path}<->`
          : `tcp:${(conn.remoteAddr as Deno.NetAddr).hostname}:${
            (conn.remoteAddr as Deno.NetAddr).port
          }`;
        const entry: Entry = {
          conn,
          ofconn: new Ofconn(name, this.sw, kind, this.#election),
          tx: Promise.resolve(),
        };
        this.#conns.add(entry);
        this.#serve(entry).finally(() => {
          this.#conns.delete(entry);
          entry.ofconn.close();
          try {
            conn.close();
          } catch { /* already closed */ }
        });
      }
    } catch (e) {
      if (!this.#closed) log.warn(`${describe(target)}: accept failed: ${e}`);
    }
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
          await write(ofconn.receive(msg));
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

  /** Closes every listener and connection; unix socket files are removed. */
  async close(): Promise<void> {
    this.#closed = true;
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
