/**
 * Record layouts on the datapath's rings (all in 32-bit words; offsets are
 * from a record's first payload word). Nothing here is JSON or
 * postMessage: producers write words, consumers read them in place.
 *
 * Command ring (dpif client -> PMD), word 0 = opcode, word 1 = request id:
 *
 *     PUT    2 flags (| PUT_WANT_FLOW), 3 action bytes, 4..7 ufid, key, mask, actions
 *     DEL    2 hasUfid, 3 -, 4..7 ufid, key
 *     GET    2 -, 3 -, 4..7 ufid
 *     FLUSH  -
 *     EXEC   2 odp in_port, 3 action bytes, 4 packet length (| EXEC_PROBE), actions,
 *            packet bytes
 *
 * Actions are src/flow's binary action encoding, padded to whole words.
 *
 * Reply ring (PMD -> client): 0 request id, 1 errno (0 = ok), 2 has flow
 * (a put's only when it asked with PUT_WANT_FLOW); with a flow: 3 action bytes, 4 tcp_flags, 5..6 packets (f64),
 * 7..8 bytes (f64), 9..10 used (f64), 12..15 ufid, key, mask, actions.
 * (Payloads start at odd word indices, so f64 fields sit at odd offsets.)
 *
 * Upcall queue (PMD -> handler): 0 type, 1 odp in_port, 2 flow hash,
 * 3 packet length, 4 userdata bytes, 5 -, 6..9 ufid, key, packet bytes,
 * userdata bytes.
 */
import { F, FLOW_WORDS } from "../flow/mod.ts";

export const OP_PUT = 1;
export const OP_DEL = 2;
export const OP_GET = 3;
export const OP_FLUSH = 4;
export const OP_EXEC = 5;

export const PUT_CREATE = 1;
export const PUT_MODIFY = 2;
export const PUT_ZERO_STATS = 4;
/**
 * A feature probe's put (DPIF_FP_PROBE): the dpif layer does not log its
 * failure, which is the expected answer of a probe for a missing feature.
 */
export const PUT_PROBE = 8;
/** Command-ring only: answer the put with the flow it left. */
export const PUT_WANT_FLOW = 0x100;
const PUT_FLAGS = PUT_CREATE | PUT_MODIFY | PUT_ZERO_STATS;
/** A put command's flags word. */
export const putCommandFlags = (flags: number, wantFlow: boolean | undefined): number =>
  (flags & PUT_FLAGS) | (wantFlow ? PUT_WANT_FLOW : 0);

export const CMD_HDR = 8;
export const CMD_KEY = CMD_HDR;
export const CMD_MASK = CMD_KEY + FLOW_WORDS;
export const CMD_PUT_ACTIONS = CMD_MASK + FLOW_WORDS;
export const CMD_EXEC_ACTIONS = 5;
/**
 * In an EXEC's length word: a feature probe's execute, which the datapath
 * checks and then drops without running its actions, so that a probe
 * never sends a packet anywhere (dpif_netdev_execute's `probe`).
 */
export const EXEC_PROBE = 0x80000000;
/**
 * In an EXEC's length word: the packet's metadata follows the packet, the
 * EXEC_MD_WORDS of a flow key (odp_key_to_dp_packet: recirc_id, dp_hash
 * and the conntrack fields the packet had when it went up).
 */
export const EXEC_HAS_MD = 0x40000000;
/** Key words that carry packet metadata: dp_hash, recirc_id, ct_state..ct_zone, ct_mark, ct_label, ct tuple. */
export const EXEC_MD_WORDS: readonly number[] = (() => {
  const spans = [
    F.dp_hash,
    F.recirc_id,
    F.ct_state,
    F.ct_nw_proto,
    F.ct_zone,
    F.ct_mark,
    F.ct_label,
    F.ct_nw_src,
    F.ct_nw_dst,
    F.ct_ipv6_src,
    F.ct_ipv6_dst,
    F.ct_tp_src,
    F.ct_tp_dst,
  ];
  const words = new Set<number>();
  for (const s of spans) for (let o = s.off; o < s.off + s.len; o += 4) words.add(o >> 2);
  return [...words].sort((a, b) => a - b);
})();

export const RP_HAS_FLOW = 2;
export const RP_FLOW_HDR = 16;
export const RP_KEY = RP_FLOW_HDR;
export const RP_MASK = RP_KEY + FLOW_WORDS;
export const RP_ACTIONS = RP_MASK + FLOW_WORDS;

export const UPCALL_MISS = 0;
export const UPCALL_ACTION = 1;
/**
 * An upcall queue record: type, in_port, flow hash, packet length, userdata
 * length, last-action flag (UPCALL_ACTION), the UFID (4 words); then the
 * key, the packet and the userdata, each word-aligned.
 */
export const UP_HDR = 10;
export const UP_KEY = UP_HDR;
export const UP_PACKET = UP_KEY + FLOW_WORDS;

export const ENOENT = 2;
export const E2BIG = 7;
export const EEXIST = 17;
export const EINVAL = 22;
export const EFBIG = 27;
export const ENOSPC = 28;
export const EOPNOTSUPP = 95;

/** strerror() text for the errnos the datapath returns. */
export function strerror(e: number): string {
  switch (e) {
    case ENOENT:
      return "No such file or directory";
    case E2BIG:
      return "Argument list too long";
    case EEXIST:
      return "File exists";
    case EINVAL:
      return "Invalid argument";
    case EFBIG:
      return "File too large";
    case ENOSPC:
      return "No space left on device";
    case EOPNOTSUPP:
      return "Operation not supported";
    default:
      return `errno ${e}`;
  }
}

export const words = (bytes: number): number => (bytes + 3) >> 2;
