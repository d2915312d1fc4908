/**
 * Big-endian readers and writers over message bytes (OVS's ofpbuf pulls
 * and puts). A read past the end throws the OpenFlow error the caller
 * names (OFPBRC_BAD_LEN for a message body, OFPBAC_BAD_LEN in actions),
 * so a truncated message becomes an error reply, never a crash.
 */
import { OfpError, type OfpErrorName } from "./errors.ts";

export class WireReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly short: OfpErrorName = "OFPBRC_BAD_LEN",
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.end) throw new OfpError(this.short);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.need(1)];
  }

  u16(): number {
    const at = this.need(2);
    return (this.bytes[at] << 8) | this.bytes[at + 1];
  }

  u32(): number {
    const at = this.need(4);
    return ((this.bytes[at] << 24) >>> 0) + ((this.bytes[at + 1] << 16) |
      (this.bytes[at + 2] << 8) | this.bytes[at + 3]);
  }

  u64(): bigint {
    return this.uint(8);
  }

  /** An unsigned big-endian value of `n` bytes. */
  uint(n: number): bigint {
    const at = this.need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.bytes[at + i]);
    return v;
  }

  bytesOf(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  skip(n: number): void {
    this.need(n);
  }

  /** A reader over the next `n` bytes, which this one skips. */
  sub(n: number, short: OfpErrorName = this.short): WireReader {
    const at = this.need(n);
    return new WireReader(this.bytes, short, at, at + n);
  }
}

export class WireWriter {
  private buf = new Uint8Array(256);
  length = 0;

  /** Reserves `n` bytes (the buffer may move: callers index it only afterwards). */
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.room(1);
    this.buf[at] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    const at = this.room(2);
    this.buf[at] = (v >> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    const at = this.room(4);
    this.buf[at] = (v >>> 24) & 0xff;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    return this.uint(v, 8);
  }

  /** `v` as an unsigned big-endian value of `n` bytes. */
  uint(v: bigint, n: number): this {
    const at = this.room(n);
    for (let i = n - 1; i >= 0; i--) {
      this.buf[at + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }

  zeros(n: number): this {
    const at = this.room(n);
    this.buf.fill(0, at, this.length);
    return this;
  }

  /** Zeros up to the next multiple of 8 bytes (OpenFlow's alignment). */
  pad8(): this {
    return this.zeros((8 - (this.length % 8)) % 8);
  }

  /** A NUL-padded fixed-width string field. */
  str(s: string, width: number): this {
    const b = new TextEncoder().encode(s).subarray(0, width - 1);
    this.bytes(b);
    return this.zeros(width - b.length);
  }

  setU16(at: number, v: number): void {
    this.buf[at] = (v >> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
