/**
 * The ukey table's memory layout (see ukey_table.ts): table header words,
 * per-umap lock and count words, buckets, then fixed 128-byte records,
 * each starting a 64-byte cache line: the words a sweep or a dump reads
 * of every ukey (lock, state, chain, UFID, dump seq, TCP flags and missed
 * dumps, pmd) are the first line, the statistics and what only a full
 * revalidation reads the second.
 */

export const N_UMAPS = 512;
export const UKEY_RECORD_BYTES = 128;
export const RW = UKEY_RECORD_BYTES / 4;

/** The STATE word holds a UkeyState (ukey_state.ts). */
export {
  UKEY_CREATED,
  UKEY_DELETED,
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
} from "./ukey_state.ts";

/** Record words. */
export const LOCK = 0;
export const STATE = 1;
export const NEXT = 2;
export const HASH = 3;
export const UFID = 4;
export const DUMP_SEQ = 8;
export const REVAL_SEQ = 9;
export const GEN = 10;
export const XCACHE = 11;
export const ACT0 = 12;
export const ACT1 = 13;
/** Low 16 bits: the last seen TCP flags; high 16 bits: dumps missed in a row (missed_dumps). */
export const TCP_FLAGS = 14;
export const PMD = 15;
export const ACT_LEN = 16;
export const MISSED_SHIFT = 16;
export const KEY_HASH = 17;
/** How many recirculation ids the ukey holds (RECIRC_N), and the ids (up to MAX_UKEY_RECIRCS). */
export const RECIRC_N = 18;
export const RECIRC0 = 19;
export const MAX_UKEY_RECIRCS = 5;
/** Float64 slots within the record (word offsets / 2). */
export const F_PACKETS = 12;
export const F_BYTES = 13;
export const F_USED = 14;
export const F_CREATED = 15;

/** Table header words. */
export const H_ALLOC_LOCK = 0;
export const H_FREE = 1;
export const H_LIMBO = 2;
export const H_HIGH = 3;
export const H_CAPACITY = 4;
export const H_NBUCKETS = 5;
/** 1 when the logs number ukey states as OVS 3.1 did (`ovs-compat=3.1`). */
export const H_STATE_NUMBERS_31 = 6;
/** 16, so that the buckets and the records after them start cache-line aligned. */
export const H_WORDS = 16;
export const UMAP_LOCKS = H_WORDS;
export const UMAP_COUNTS = UMAP_LOCKS + N_UMAPS;
export const BUCKETS = UMAP_COUNTS + N_UMAPS;

export function bucketsFor(capacity: number): number {
  let n = N_UMAPS;
  while (n < capacity) n *= 2;
  return n;
}

/** Bytes a table of `capacity` ukeys needs. */
export function ukeyTableBytes(capacity: number): number {
  return (BUCKETS + bucketsFor(capacity)) * 4 + capacity * UKEY_RECORD_BYTES;
}
