/**
 * The byte view of a key, made once per key object and remembered: hot
 * paths call with the same few keys over and over, and a fresh Uint8Array
 * per call would be an allocation per packet.
 */
import type { FlowKey } from "./key.ts";

const views = new WeakMap<FlowKey, Uint8Array>();
let lastKey: FlowKey | null = null;
let lastView: Uint8Array = new Uint8Array(0);

export function viewOf(key: FlowKey): Uint8Array {
  if (key === lastKey) return lastView;
  let v = views.get(key);
  if (v === undefined) {
    v = new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
    views.set(key, v);
  }
  lastKey = key;
  lastView = v;
  return v;
}
