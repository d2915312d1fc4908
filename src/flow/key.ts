/**
 * Flow keys and masks: fixed-layout Uint32Arrays (see layout.ts) with
 * big-endian field accessors. A mask has the same layout as a key; a 1 bit
 * means "this bit of the key matters".
 *
 * Keys are words so that masking, comparing and hashing run a word at a
 * time; fields are bytes so that the layout is OVS's. `bytesOf` gives the
 * byte view of a key without copying; callers on hot paths keep the view.
 */
import { type FieldSpan, FLOW_WORDS } from "./layout.ts";

export type FlowKey = Uint32Array;

export function newKey(): FlowKey {
  return new Uint32Array(FLOW_WORDS);
}

/** A key over existing memory (a slot of a shared flow table, say). */
export function keyAt(buf: ArrayBufferLike, byteOffset: number): FlowKey {
  return new Uint32Array(buf, byteOffset, FLOW_WORDS);
}

export function bytesOf(key: FlowKey): Uint8Array {
  return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
}

export function copyKey(dst: FlowKey, src: FlowKey): void {
  dst.set(src);
}

export function clearKey(key: FlowKey): void {
  key.fill(0);
}

export function fillMask(mask: FlowKey): void {
  mask.fill(0xffffffff);
}

/** dst = key & mask. */
export function maskKey(dst: FlowKey, key: FlowKey, mask: FlowKey): void {
  for (let i = 0; i < FLOW_WORDS; i++) dst[i] = key[i] & mask[i];
}

export function keysEqual(a: FlowKey, b: FlowKey): boolean {
  for (let i = 0; i < FLOW_WORDS; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** (a & mask) == (b & mask). */
export function equalUnderMask(a: FlowKey, b: FlowKey, mask: FlowKey): boolean {
  for (let i = 0; i < FLOW_WORDS; i++) if (((a[i] ^ b[i]) & mask[i]) !== 0) return false;
  return true;
}

/** dst |= src: how wildcards accumulate "this bit was looked at". */
export function orInto(dst: FlowKey, src: FlowKey): void {
  for (let i = 0; i < FLOW_WORDS; i++) dst[i] |= src[i];
}

export function isAllZero(key: FlowKey): boolean {
  for (let i = 0; i < FLOW_WORDS; i++) if (key[i] !== 0) return false;
  return true;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A key word as the big-endian number its bytes spell (and back: the same swap). */
export function be32(w: number): number {
  if (!LITTLE_ENDIAN) return w >>> 0;
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)) >>> 0;
}

/**
 * Reads `len` (1, 2 or 4) bytes at byte `off` of `key` as getUint does on
 * its bytes, for a field within one aligned word (as most are), from the
 * word itself: no byte view of the key, no copy.
 */
export function keyUint(key: FlowKey, off: number, len: number): number {
  const at = off & 3;
  if (at + len > 4) throw new RangeError(`keyUint: ${len} bytes at ${off} cross a word`);
  const w = be32(key[off >> 2]);
  return len === 4 ? w : (w >>> ((4 - at - len) << 3)) & ((1 << (len << 3)) - 1);
}

/** Reads a field of 1, 2 or 4 bytes as an unsigned number. */
export function getField(b: Uint8Array, span: FieldSpan): number {
  return getUint(b, span.off, span.len);
}

export function setField(b: Uint8Array, span: FieldSpan, v: number): void {
  setUint(b, span.off, span.len, v);
}

export function getUint(b: Uint8Array, off: number, len: number): number {
  switch (len) {
    case 1:
      return b[off];
    case 2:
      return (b[off] << 8) | b[off + 1];
    case 4:
      return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
    default:
      throw new RangeError(`getUint: width ${len}`);
  }
}

export function setUint(b: Uint8Array, off: number, len: number, v: number): void {
  switch (len) {
    case 1:
      b[off] = v;
      return;
    case 2:
      b[off] = v >>> 8;
      b[off + 1] = v;
      return;
    case 4:
      b[off] = v >>> 24;
      b[off + 1] = v >>> 16;
      b[off + 2] = v >>> 8;
      b[off + 3] = v;
      return;
    default:
      throw new RangeError(`setUint: width ${len}`);
  }
}

/** Sets every bit of a field (in a mask). */
export function exactField(mask: Uint8Array, span: FieldSpan): void {
  mask.fill(0xff, span.off, span.off + span.len);
}
