/**
 * Masked values as match_format prints them: IPv4/IPv6 as a CIDR prefix
 * when the mask is one, 16-bit fields in hex with their mask.
 */
import { formatIpv4, formatIpv6, formatMac } from "./field_value.ts";

function countPrefix(mask: bigint, width: number): number {
  let n = 0;
  for (let i = width - 1; i >= 0 && (mask >> BigInt(i)) & 1n; i--) n++;
  return n;
}

function isCidr(mask: bigint, width: number): boolean {
  const n = countPrefix(mask, width);
  const full = n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(width - n);
  return full === mask;
}

export function ipMasked(v: bigint, m: bigint): string {
  if (m === 0xffffffffn) return formatIpv4(v);
  return formatIpv4(v) + (isCidr(m, 32) ? `/${countPrefix(m, 32)}` : `/${formatIpv4(m)}`);
}

export function ipv6Masked(v: bigint, m: bigint): string {
  if (m === (1n << 128n) - 1n) return formatIpv6(v);
  return formatIpv6(v) + (isCidr(m, 128) ? `/${countPrefix(m, 128)}` : `/${formatIpv6(m)}`);
}

export function macMasked(v: bigint, m: bigint): string {
  return formatMac(v) + (m === (1n << 48n) - 1n ? "" : `/${formatMac(m)}`);
}

export function be16Masked(v: number, m: number): string {
  return m === 0xffff ? String(v) : `0x${v.toString(16)}/0x${m.toString(16)}`;
}
