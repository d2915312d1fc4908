/**
 * The PMD's flow_extract step, as dfc_processing runs miniflow_extract
 * per packet: the packet in the PMD's buffer becomes its flow key, the
 * key's KeyWords map and the key's miniflow and hash (PacketMiniflow, what
 * the EMC, SMC and a miss's handler queue use). A fresh packet of the
 * common kind (flow/extract_fast.ts) takes the one-pass path when the PMD
 * runs the flow module's own flowExtract, whose result that path gives;
 * every other packet, and every packet with another extractor, goes
 * through the extractor and then the miniflow of the words it wrote.
 *
 * Thread-safety: owned by one Pmd, used only on its thread.
 */
import {
  addKeyWords,
  allKeyWords,
  extractIpv4L4,
  flowExtract,
  KEY_WORDS_LEN,
  KEY_WORDS_VALID,
  type KeyWords,
  type PacketMiniflow,
} from "../flow/mod.ts";
import { EXEC_MD_WORDS } from "./protocol.ts";

/**
 * `flow_extract`: fills `key` from the first `len` bytes of `packet`. An
 * extractor that keeps the optional KeyWords map (flowExtract) zeroes only
 * the words it names and records the ones it writes; one that ignores it
 * leaves it invalid and the PMD then scans the whole key.
 */
export type FlowExtractFn = (
  packet: Uint8Array,
  len: number,
  inPort: number,
  key: Uint32Array,
  words?: KeyWords,
) => void;

/** The key words a recirculated packet's metadata is laid over. */
const MD_KEY_WORDS: KeyWords = (() => {
  const t = new Uint32Array(KEY_WORDS_LEN);
  for (const w of EXEC_MD_WORDS) t[w >> 5] |= 1 << (w & 31);
  return t;
})();

export class PmdKeyExtract {
  /**
   * The words of `key` that may be nonzero (KeyWords), kept by the
   * extractor; whatever else writes the key (metadata, conntrack,
   * recirculation's restore, an execute) calls `invalidate()`, so the next
   * extraction clears the whole key.
   */
  private readonly words: KeyWords = new Uint32Array(KEY_WORDS_LEN);
  /** The extractor is flowExtract itself, so its one-pass common case applies. */
  private readonly fast: boolean;

  constructor(
    private readonly extract: FlowExtractFn,
    private readonly key: Uint32Array,
    private readonly packet: PacketMiniflow,
  ) {
    this.fast = extract === flowExtract;
  }

  /** A packet fresh from a port: `buf` (and its word view `buf32`), `len` bytes. */
  fresh(buf: Uint8Array, buf32: Uint32Array, len: number, inPort: number): void {
    if (this.fast && extractIpv4L4(buf32, len, inPort, this.key, this.words, this.packet)) return;
    this.extractWords(buf, len, inPort);
    this.packet.ofWords(this.key, this.words);
  }

  /** A recirculated packet, whose metadata `overlay` lays over the key. */
  recirculated(
    buf: Uint8Array,
    len: number,
    inPort: number,
    meta: { overlay(key: Uint32Array): void },
  ): void {
    this.extractWords(buf, len, inPort);
    meta.overlay(this.key);
    addKeyWords(this.words, MD_KEY_WORDS);
    this.packet.ofWords(this.key, this.words);
  }

  /** Something else wrote the key: the next extraction clears all of it. */
  invalidate(): void {
    this.words[KEY_WORDS_VALID] = 0;
  }

  private extractWords(buf: Uint8Array, len: number, inPort: number): void {
    this.extract(buf, len, inPort, this.key, this.words);
    if (this.words[KEY_WORDS_VALID] !== 1) allKeyWords(this.words);
  }
}
