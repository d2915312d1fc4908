/** Field-level text of the key printer: `name=value[/mask]` pieces. */
import { FLOW_BYTES, FRAG_ANY, FRAG_LATER, VLAN_CFI } from "./layout.ts";
import { formatIp4, formatIp6, formatMac } from "./_addr.ts";

/** The all-zero mask of an attribute the mask does not carry. */
export const ZERO = new Uint8Array(FLOW_BYTES);

export const hx = (v: number): string => (v === 0 ? "0" : "0x" + (v >>> 0).toString(16));
export const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
export const zeroSpan = (b: Uint8Array, o: number, n: number): boolean => {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0) return false;
  return true;
};
export const fullSpan = (b: Uint8Array, o: number, n: number): boolean => {
  for (let i = 0; i < n; i++) if (b[o + i] !== 0xff) return false;
  return true;
};

/** One field inside an attribute: `name=value[/mask],` or nothing. */
export type FieldOut = string[];

export function fNum(
  out: FieldOut,
  name: string,
  kv: number,
  mv: number | null,
  full: number,
  verbose: boolean,
  hexValue: boolean,
): void {
  if (!verbose && mv === 0) return;
  let s = `${name}=${hexValue ? hx(kv) : String(kv)}`;
  if (mv !== null && mv !== full) s += "/" + hx(mv);
  out.push(s);
}

/** A field printer for an address `len` bytes wide that `format` spells. */
export type AddrField = (
  out: FieldOut,
  name: string,
  k: Uint8Array,
  m: Uint8Array | null,
  o: number,
  verbose: boolean,
) => void;

function addrField(len: number, format: (b: Uint8Array, o: number) => string): AddrField {
  return (out, name, k, m, o, verbose) => {
    if (!verbose && m && zeroSpan(m, o, len)) return;
    let s = `${name}=${format(k, o)}`;
    if (m && !fullSpan(m, o, len)) s += "/" + format(m, o);
    out.push(s);
  };
}

export const fIp4: AddrField = addrField(4, formatIp4);
export const fIp6: AddrField = addrField(16, formatIp6);
export const fMac: AddrField = addrField(6, formatMac);

export function fFrag(out: FieldOut, nwFrag: number, fragMask: number | null): void {
  const mv = fragMask === null ? 0xff : fragMask & FRAG_ANY ? 0xff : 0;
  if (mv === 0) return;
  out.push(
    "frag=" + (!(nwFrag & FRAG_ANY) ? "no" : nwFrag & FRAG_LATER ? "later" : "first"),
  );
}

export function formatVlanTci(tci: number, mask: number, verbose: boolean): string {
  const out: string[] = [];
  const vid = tci & 0xfff, vidM = mask & 0xfff;
  const pcp = tci >>> 13, pcpM = (mask >>> 13) & 7;
  if (verbose || vid || vidM) {
    out.push(`vid=${vid}` + (vidM !== 0xfff ? `/0x${vidM.toString(16)}` : ""));
  }
  if (verbose || pcp || pcpM) {
    out.push(`pcp=${pcp}` + (pcpM !== 7 ? `/0x${pcpM.toString(16)}` : ""));
  }
  if (!(tci & VLAN_CFI)) out.push("cfi=0");
  return out.join(",");
}

/** OVS's ds_put_hex: 0x followed by the bytes, leading zero bytes dropped. */
export function hex128(b: Uint8Array, o: number): string {
  let s = "";
  for (let i = 0; i < 16; i++) {
    const v = b[o + i];
    if (s === "") {
      if (v) s = "0x" + v.toString(16);
    } else {
      s += v.toString(16).padStart(2, "0");
    }
  }
  return s === "" ? "0" : s;
}
