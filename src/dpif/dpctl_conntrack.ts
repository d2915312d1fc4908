/**
 * The dpctl conntrack commands, as OVS 3.1's lib/dpctl.c prints them for
 * the userspace datapath: dump-conntrack, flush-conntrack, ct-stats-show,
 * ct-set-maxconns, ct-get-maxconns, ct-get-nconns and the TCP
 * sequence-check switch (ct-enable/disable/get-tcp-seq-chk). They read and change
 * the connection table the PMDs share (src/conntrack) directly, under its
 * lock. A failure throws DpctlError with OVS's wording.
 */
import {
  ConnTable,
  ctStatsShow,
  type CtTupleMatch,
  dumpConns,
  emptyTupleMatch,
  flushConns,
} from "../conntrack/mod.ts";
import { parseIp4, parseIp6 } from "../flow/mod.ts";
import { timeMsec } from "../lib/mod.ts";
import { DpctlError } from "./dpctl.ts";
import type { DpifNetdev } from "./dpif_netdev.ts";

const tables = new WeakMap<DpifNetdev, ConnTable>();

function table(dp: DpifNetdev): ConnTable {
  let t = tables.get(dp);
  if (!t) tables.set(dp, t = new ConnTable(dp.shared.buffers.conntrack));
  return t;
}

function isDpName(dp: DpifNetdev, a: string): boolean {
  return a === dp.name || a === `ovs-${dp.type}` || a === `${dp.type}@ovs-${dp.type}`;
}

function dpError(what: string, errno = "Invalid argument"): never {
  throw new DpctlError(`ovs-vswitchd: ${what} (${errno})`);
}

/** Splits off -s/-m style options and a leading datapath name. */
function options(dp: DpifNetdev, args: string[]) {
  let stats = false, verbose = false;
  const rest: string[] = [];
  for (const a of args) {
    if (a === "-s" || a === "--statistics") stats = true;
    else if (a === "-m" || a === "--more") verbose = true;
    else rest.push(a);
  }
  if (rest.length && isDpName(dp, rest[0])) rest.shift();
  return { stats, verbose, rest };
}

function parseZone(a: string): number | null {
  const m = /^zone=([0-9]+)$/.exec(a);
  return m && Number(m[1]) <= 0xffff ? Number(m[1]) : null;
}

/** `dpctl/dump-conntrack [-m] [-s] [dp] [zone=N]`. */
export function dpctlDumpConntrack(dp: DpifNetdev, args: string[]): string {
  const { stats, rest } = options(dp, args);
  let zone: number | null = null;
  if (rest.length && rest[rest.length - 1].startsWith("zone=")) {
    zone = parseZone(rest.pop()!);
    if (zone === null) dpError("starting conntrack dump");
  }
  if (rest.length) dpError("datapath not found");
  return dumpConns(table(dp), zone, stats).map((l) => l + "\n").join("");
}

function u(v: string, key: string, max: number): number {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v) || Number(v) > max) {
    dpError(`invalid ${key} value: ${v}`);
  }
  return Number(v);
}

/** ofp_ct_tuple_parse: `ct_nw_src=A,ct_nw_dst=B,ct_nw_proto=P,ct_tp_src=S,...`. */
export function parseCtTuple(text: string): CtTupleMatch {
  const m = emptyTupleMatch();
  for (const f of text.split(",")) {
    if (f === "") continue;
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq), v = eq < 0 ? "" : f.slice(eq + 1);
    if (v === "") dpError(`field ${key} missing value`);
    const addr = (v6: boolean): Int32Array => {
      if (m.v6 !== null && m.v6 !== v6) {
        dpError(`the L3 protocol does not match ${v}`);
      }
      const b = new Uint8Array(16);
      if (!(v6 ? parseIp6(v, b, 0) : parseIp4(v, b, 0))) {
        dpError(`failed to parse field ${key}`);
      }
      m.v6 = v6;
      const w = new Int32Array(v6 ? 4 : 1);
      for (let i = 0; i < w.length; i++) {
        w[i] = (b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3];
      }
      return w;
    };
    const once = (cur: unknown) => {
      if (cur !== null) dpError(`${key} is set multiple times`);
    };
    switch (key) {
      case "ct_nw_src":
      case "ct_ipv6_src":
        once(m.src);
        m.src = addr(key === "ct_ipv6_src");
        break;
      case "ct_nw_dst":
      case "ct_ipv6_dst":
        once(m.dst);
        m.dst = addr(key === "ct_ipv6_dst");
        break;
      case "ct_nw_proto":
        once(m.proto);
        m.proto = u(v, key, 0xff);
        break;
      case "ct_tp_src":
        once(m.sport);
        m.sport = u(v, key, 0xffff);
        break;
      case "ct_tp_dst":
        once(m.dport);
        m.dport = u(v, key, 0xffff);
        break;
      case "icmp_type":
        once(m.icmpType);
        m.icmpType = u(v, key, 0xff);
        break;
      case "icmp_code":
        once(m.icmpCode);
        m.icmpCode = u(v, key, 0xff);
        break;
      case "icmp_id":
        once(m.icmpId);
        m.icmpId = u(v, key, 0xffff);
        break;
      default:
        dpError(`invalid conntrack tuple field: ${key}`);
    }
  }
  return m;
}

/** `dpctl/flush-conntrack [dp] [zone=N] [ct-orig-tuple [ct-reply-tuple]]`. */
export function dpctlFlushConntrack(dp: DpifNetdev, args: string[]): string {
  const rest = [...args];
  if (rest.length && isDpName(dp, rest[0])) rest.shift();
  let zone: number | null = null;
  if (rest.length && rest[0].startsWith("zone=")) {
    zone = parseZone(rest.shift()!);
    if (zone === null) {
      throw new DpctlError("ovs-vswitchd: failed to parse zone (Invalid argument)");
    }
  }
  if (rest.length > 2) dpError("invalid arguments");
  const orig = rest.length > 0 ? parseCtTuple(rest[0]) : null;
  const reply = rest.length > 1 ? parseCtTuple(rest[1]) : null;
  flushConns(table(dp), zone, orig, reply);
  return "";
}

/** `dpctl/ct-stats-show [dp] [zone=N] [verbose]`. */
export function dpctlCtStatsShow(dp: DpifNetdev, args: string[]): string {
  const o = options(dp, args);
  let verbose = o.verbose, zone: number | null = null;
  const rest = o.rest;
  while (rest.length) {
    const last = rest[rest.length - 1];
    if (last.startsWith("verbose")) verbose = true;
    else if (last.startsWith("zone=")) {
      zone = parseZone(last);
      if (zone === null) dpError("failed to parse zone");
    } else break;
    rest.pop();
  }
  if (rest.length) dpError("datapath not found");
  return ctStatsShow(table(dp), zone, verbose);
}

/** `dpctl/ct-set-maxconns [dp] maxconns`. */
export function dpctlCtSetMaxconns(dp: DpifNetdev, args: string[]): string {
  const rest = args.length > 1 && isDpName(dp, args[0]) ? args.slice(1) : args;
  const n = rest.length === 1 && /^[0-9]+$/.test(rest[0]) ? Number(rest[0]) : NaN;
  if (!(n <= 0xffffffff)) dpError("maxconns missing or malformed");
  // The table word is signed: a limit past it is "no limit".
  table(dp).maxConns = Math.min(n, 0x7fffffff);
  return "setting maxconns successful";
}

/** `dpctl/ct-get-maxconns [dp]`. */
export function dpctlCtGetMaxconns(dp: DpifNetdev, args: string[]): string {
  if (args.length && !isDpName(dp, args[0])) dpError("datapath not found");
  return `${table(dp).maxConns >>> 0}\n`;
}

/** `dpctl/ct-get-nconns [dp]`. */
export function dpctlCtGetNconns(dp: DpifNetdev, args: string[]): string {
  if (args.length && !isDpName(dp, args[0])) dpError("datapath not found");
  const t = table(dp);
  t.sweep(timeMsec());
  return `${t.nConns}\n`;
}

/** `dpctl/ct-enable-tcp-seq-chk [dp]` and `ct-disable-tcp-seq-chk [dp]`. */
export function dpctlCtSetTcpSeqChk(dp: DpifNetdev, args: string[], enabled: boolean): string {
  if (args.length && !isDpName(dp, args[0])) dpError("datapath not found");
  table(dp).tcpSeqChk = enabled;
  return `${enabled ? "enabling" : "disabling"} TCP sequence checking successful`;
}

/** `dpctl/ct-get-tcp-seq-chk [dp]`. */
export function dpctlCtGetTcpSeqChk(dp: DpifNetdev, args: string[]): string {
  if (args.length && !isDpName(dp, args[0])) dpError("datapath not found");
  return `TCP sequence checking: ${table(dp).tcpSeqChk ? "enabled" : "disabled"}\n`;
}
