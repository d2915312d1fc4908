/**
 * The conntrack layer: the userspace datapath's connection tracker, as
 * OVS 3.1's lib/conntrack.c with conntrack-tcp.c, conntrack-icmp.c,
 * conntrack-other.c and the default timeout policy of conntrack-tp.c. The
 * PMD runs a datapath `ct(...)` action through `Conntrack.execute`, which
 * tracks the packet's connection, creates it on commit, NATs the packet
 * and writes ct_state/ct_zone/ct_mark/ct_label and the original tuple
 * into the packet's metadata (a flow key), so that the lookup after
 * `recirc` matches on them.
 *
 * - _table.ts: the connection table in one SharedArrayBuffer: fixed slots
 *   and an index holding each connection under its original and reply
 *   key (zone, protocol, addresses, ports or ICMP id/type/code).
 * - _tuple.ts: a packet's connection key (conn_key_extract), lengths and
 *   checksums checked; ICMP errors give the quoted packet's key, related.
 * - tcp.ts: TCP peer states (a type with its transition table) and pf's
 *   sequence-window checks.
 * - _icmp.ts, _other.ts: the ICMP and other-protocol connection states
 *   (conntrack-icmp.c, conntrack-other.c).
 * - _nat.ts: NAT (nat_get_unique_tuple, nat_packet, nat_inner_packet).
 * - conntrack.ts: the packet path (process_one, conn_not_found,
 *   write_ct_md).
 * - dump.ts: dump-conntrack text, flush by zone and tuple, ct-stats-show.
 *
 * Not here (yet): fragment reassembly (OVS's ipf: a fragment is +inv),
 * ALG helpers (`helper=` is kept on the action, not applied), timeout
 * policies (`timeout=` likewise; the defaults apply) and zone limits.
 *
 * Expiry follows udpif's clock (lib/clock.ts: `time/warp` moves it): a
 * connection past its expiration is gone for the next packet, and the
 * commands sweep expired ones before listing.
 *
 * Thread-safety: the table is shared by every PMD worker and the main
 * thread (the dpctl commands) without messages: one lock word in the
 * buffer (Atomics compare-and-swap, waiters sleep on it with
 * Atomics.wait) guards the index and all slots, and every operation —
 * a packet's lookup, state update and insert, a flush, a sweep, a dump's
 * listing — holds it for its whole duration, so a connection is never
 * seen half-written. A `Conntrack` object (its scratch buffers) belongs
 * to one thread; each PMD makes its own over the shared buffer. Nothing
 * on the packet path allocates.
 */
import { ConnTable } from "./_table.ts";

export { Conntrack } from "./conntrack.ts";
export { ConnTable, DEFAULT_MAXCONNS } from "./_table.ts";
export {
  ctStatsShow,
  type CtTupleMatch,
  dumpConns,
  emptyTupleMatch,
  flushConns,
  formatConn,
  liveConns,
} from "./dump.ts";
export { TCP_STATE_NAMES, TCP_TRANSITIONS, TcpState } from "./tcp.ts";
export { DEFAULT_TIMEOUT_S, TM } from "./_timeouts.ts";

/** A fresh connection table of `capacity` slots, to share with the PMDs. */
export function createConntrackBuffer(capacity: number): SharedArrayBuffer {
  return ConnTable.create(capacity);
}
