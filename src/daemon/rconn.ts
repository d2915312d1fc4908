/**
 * A reliable connection to a controller (OVS's lib/rconn.c): connects to
 * an active target (`tcp:IP[:PORT]`, `unix:PATH`), and when the attempt
 * fails or the connection drops, waits and tries again, the wait doubling
 * from 1 s up to max_backoff (8 s) and starting over at 1 s after a
 * connection that outlived its backoff. While connected, a peer silent
 * for probe_interval (5 s) gets an echo request (state IDLE); silent for
 * another interval, it is disconnected ("no response to inactivity
 * probe").
 *
 * What runs over the connection is the owner's (the connection manager
 * serves an Ofconn on it): `serve` is called with each new stream and
 * resolves when that stream is finished; `received` is called by the
 * owner for every message, which is the activity the probe watches.
 *
 * Thread-safety: main thread. Timers are real time (not the virtual
 * clock): they pace a network peer, not flows.
 */
import { coverageCounter, getLogger } from "../lib/mod.ts";

const log = getLogger("rconn");
const covConnect = coverageCounter("rconn_connect");
const covProbe = coverageCounter("rconn_probe");

/** OFP_PORT: the controller port a target without one gets. */
export const OFP_DEFAULT_PORT = 6653;
/** rconn's defaults as ovs-vswitchd sets them for a controller. */
export const MAX_BACKOFF_S = 8;
export const PROBE_INTERVAL_S = 5;

export type ActiveTarget =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "unix"; path: string };

/** The target as OVS names it: `tcp:IP:PORT` or `unix:PATH`. */
export function describeActive(t: ActiveTarget): string {
  if (t.kind === "unix") return `unix:${t.path}`;
  return `tcp:${t.host.includes(":") ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * Parses `tcp:IP[:PORT]` or `unix:PATH` (OVS's active stream names); throws
 * naming the bad part. IP must be an address (OVS resolves no names).
 */
export function parseActiveTarget(text: string): ActiveTarget {
  if (text.startsWith("unix:")) {
    if (text.length === 5) throw new Error(`${text}: missing socket path`);
    return { kind: "unix", path: text.slice(5) };
  }
  const tcp = /^tcp:(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(text);
  if (!tcp) {
    throw new Error(`${text}: unknown connection method (tcp:IP[:PORT] or unix:PATH)`);
  }
  const host = tcp[1].replace(/^\[(.*)\]$/, "$1");
  if (!isIpAddress(host)) throw new Error(`${text}: bad IP address "${host}"`);
  let port = OFP_DEFAULT_PORT;
  if (tcp[2] !== undefined) {
    if (!/^\d{1,5}$/.test(tcp[2]) || Number(tcp[2]) > 65535) {
      throw new Error(`${text}: bad port number "${tcp[2]}"`);
    }
    port = Number(tcp[2]);
  }
  return { kind: "tcp", host, port };
}

function isIpAddress(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255);
  return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s);
}

/** enum state of rconn.c. */
export type RconnState = "void" | "backoff" | "connecting" | "active" | "idle";

const TRANSITIONS: Record<RconnState, readonly RconnState[]> = {
  void: ["connecting"],
  backoff: ["connecting", "void"],
  connecting: ["active", "backoff", "void"],
  active: ["idle", "backoff", "void"],
  idle: ["active", "backoff", "void"],
};

/** What the owner does with a connected stream. */
export interface RconnOwner {
  /** Serves `conn` until it ends (the owner closes it). */
  serve(conn: Deno.Conn, rconn: Rconn): Promise<void>;
  /** Sends an echo request on the stream being served. */
  sendEchoRequest(rconn: Rconn): void;
}

export class Rconn {
  state: RconnState = "void";
  /** Seconds the next backoff lasts. */
  backoff = 0;
  /** time (ms) of the last connection, and of the last drop or failure. */
  lastConnectedMs = 0;
  lastDisconnectedMs = Date.now();
  lastActivityMs = 0;
  nAttempts = 0;
  nSuccesses = 0;
  /** Why the last attempt or connection ended. */
  lastError = "";
  #backoffDeadline = 0;
  #idleSinceMs = 0;
  /** When the connection was last known up (rconn's last_admitted); creation counts. */
  #lastUpMs = Date.now();
  #conn: Deno.Conn | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly name: string,
    readonly target: ActiveTarget,
    private readonly owner: RconnOwner,
    readonly maxBackoffS = MAX_BACKOFF_S,
    readonly probeIntervalS = PROBE_INTERVAL_S,
  ) {
    this.done = this.#run();
  }

  get connected(): boolean {
    return this.state === "active" || this.state === "idle";
  }

  #transition(to: RconnState): void {
    if (!TRANSITIONS[this.state].includes(to)) {
      log.warn(`${this.name}: refused rconn transition ${this.state} -> ${to}`);
      return;
    }
    log.debug(`${this.name}: entering ${to.toUpperCase()}`);
    this.state = to;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#transition("connecting");
      this.nAttempts++;
      log.info(`${this.name}: connecting...`);
      const conn = await this.#connect();
      if (this.#stopped) {
        conn?.close();
        break;
      }
      if (conn) {
        covConnect.inc();
        this.nSuccesses++;
        this.#conn = conn;
        this.lastConnectedMs = this.lastActivityMs = Date.now();
        this.#transition("active");
        log.info(`${this.name}: connected`);
        this.#armProbe();
        await this.owner.serve(conn, this).catch((e) => (this.lastError = String(e)));
        this.#conn = undefined;
        clearTimeout(this.#timer);
        if (this.#stopped) break;
        if (!this.lastError) this.lastError = "connection closed by peer";
        log.info(`${this.name}: connection dropped (${this.lastError})`);
      }
      this.#disconnect();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.backoff * 1000);
      });
      this.#wake = undefined;
    }
    if (this.state !== "void") this.#transition("void");
  }

  /** One attempt, timed out after max(1, backoff) seconds as rconn's CONNECTING state. */
  async #connect(): Promise<Deno.Conn | undefined> {
    this.lastError = "";
    const t = this.target;
    const attempt = t.kind === "tcp"
      ? Deno.connect({ transport: "tcp", hostname: t.host, port: t.port })
      : Deno.connect({ transport: "unix", path: t.path });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(1, this.backoff) * 1000);
      this.#wake = () => resolve("timeout");
    });
    try {
      const r = await Promise.race([attempt, timeout]);
      if (r === "timeout") {
        attempt.then((c) => c.close(), () => {});
        this.lastError = "connection timed out";
        log.info(`${this.name}: connection timed out`);
        return undefined;
      }
      return r;
    } catch (e) {
      // "Connection refused", as OVS prints strerror, without Rust's "(os error 111)".
      this.lastError = (e instanceof Error ? e.message : String(e)).replace(
        / \(os error \d+\)$/,
        "",
      );
      log.info(`${this.name}: connection failed (${this.lastError})`);
      return undefined;
    } finally {
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  /** rconn_failure_duration: 0 while connected, else how long since it was last up. */
  failureDurationMs(nowMs: number): number {
    return this.connected ? 0 : nowMs - this.#lastUpMs;
  }

  /** rconn's disconnect(): the next backoff, doubled unless the last one was outlived. */
  #disconnect(): void {
    const now = Date.now();
    if (this.connected) this.#lastUpMs = now;
    this.lastDisconnectedMs = now;
    if (now >= this.#backoffDeadline) {
      this.backoff = 1;
    } else if (this.backoff < this.maxBackoffS / 2) {
      this.backoff = Math.max(1, 2 * this.backoff);
      log.info(`${this.name}: waiting ${this.backoff} seconds before reconnect`);
    } else {
      if (this.backoff !== this.maxBackoffS) {
        log.info(
          `${this.name}: continuing to retry connections in the background but suppressing further logging`,
        );
      }
      this.backoff = this.maxBackoffS;
    }
    this.#backoffDeadline = now + this.backoff * 1000;
    this.#transition("backoff");
  }

  /** A message arrived: the peer is alive (rconn_recv's activity). */
  received(): void {
    this.lastActivityMs = this.#lastUpMs = Date.now();
    if (this.state === "idle") this.#transition("active");
  }

  /** The inactivity probe: echo after one silent interval, disconnect after two. */
  #armProbe(): void {
    clearTimeout(this.#timer);
    if (this.probeIntervalS <= 0 || !this.#conn) return;
    const interval = this.probeIntervalS * 1000;
    const base = this.state === "idle" ? this.#idleSinceMs : this.lastActivityMs;
    const wait = Math.max(0, base + interval - Date.now());
    this.#timer = setTimeout(() => this.#probe(), wait);
  }

  #probe(): void {
    const now = Date.now();
    const interval = this.probeIntervalS * 1000;
    if (this.state === "active") {
      if (now - this.lastActivityMs >= interval) {
        covProbe.inc();
        log.debug(`${this.name}: idle ${this.probeIntervalS} seconds, sending inactivity probe`);
        this.#idleSinceMs = now;
        this.#transition("idle");
        this.owner.sendEchoRequest(this);
      }
    } else if (this.state === "idle") {
      if (this.lastActivityMs >= this.#idleSinceMs) {
        this.#transition("active");
      } else if (now - this.#idleSinceMs >= interval) {
        log.error(
          `${this.name}: no response to inactivity probe after ${this.probeIntervalS} seconds, disconnecting`,
        );
        this.lastError = "inactivity probe timed out";
        this.#closeConn();
        return;
      }
    }
    this.#armProbe();
  }

  #closeConn(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
  }

  /** Stops reconnecting and closes the connection; `done` resolves after. */
  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#closeConn();
    this.#wake?.();
    return this.done;
  }
}
