/** Byte helpers for the key parser: big-endian puts and gets, 128-bit hex. */

/** Writes `v` big-endian into b[o..o+len). */
export const put = (b: Uint8Array, o: number, len: number, v: number): void => {
  for (let i = len - 1; i >= 0; i--) {
    b[o + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
};

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function hex128Into(s: string, b: Uint8Array, o: number): boolean {
  let digits: string;
  if (s.startsWith("0x") || s.startsWith("0X")) digits = s.slice(2);
  else if (/^[0-9]+$/.test(s)) {
    let v = BigInt(s);
    for (let i = 15; i >= 0; i--) {
      b[o + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return v === 0n;
  } else return false;
  if (!/^[0-9a-fA-F]{1,32}$/.test(digits)) return false;
  digits = digits.padStart(32, "0");
  for (let i = 0; i < 16; i++) b[o + i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return true;
}
