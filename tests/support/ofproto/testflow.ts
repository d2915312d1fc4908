/** Test helper: a flow key from `field=value` pairs in mf names. */
import { type FlowKey, newKey } from "../../../src/flow/mod.ts";
import { mfByName, mfSet } from "../../../src/ofproto/meta_flow.ts";
import { parseFieldValue } from "../../../src/ofproto/field_value.ts";

export function flowOf(spec: string): FlowKey {
  const key = newKey();
  for (const item of spec.split(",")) {
    const [name, value] = item.split("=");
    const fl = mfByName(name);
    if (!fl) throw new Error(`test flow: unknown field ${name}`);
    mfSet(fl, key, parseFieldValue(fl, value).value);
  }
  return key;
}

/** A field of a wildcards key, in field units. */
export function wcField(wc: FlowKey, name: string): bigint {
  const fl = mfByName(name)!;
  let v = 0n;
  const b = new Uint8Array(wc.buffer, wc.byteOffset, wc.byteLength);
  for (let i = 0; i < fl.nBytes; i++) v = (v << 8n) | BigInt(b[fl.off + i]);
  return (v >> BigInt(fl.shift)) & ((1n << BigInt(fl.nBits)) - 1n);
}
