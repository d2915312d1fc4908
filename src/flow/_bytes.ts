/**
 * The byte view of a key, cached for the last key seen: hot paths call
 * with the same few keys over and over, and a fresh Uint8Array per call
 * would be an allocation per packet.
 */
import type { FlowKey } from "./key.ts";

let lastKey: FlowKey | null = null;
let lastBytes: Uint8Array = new Uint8Array(0);
let lastKey2: FlowKey | null = null;
let lastBytes2: Uint8Array = new Uint8Array(0);

export function viewOf(key: FlowKey): Uint8Array {
  if (key === lastKey) return lastBytes;
  if (key === lastKey2) return lastBytes2;
  lastKey2 = lastKey;
  lastBytes2 = lastBytes;
  lastKey = key;
  lastBytes = new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  return lastBytes;
}
