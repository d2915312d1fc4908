/**
 * Port numbers across versions (ofputil_port_from_ofp11 and
 * ofputil_port_to_ofp11): udpif keeps OpenFlow 1.0's 16-bit numbers, with
 * the reserved ports at 0xfff8..0xffff; OpenFlow 1.1+ puts them at
 * 0xfffffff8..0xffffffff and refuses numbers in between.
 */
import { OfpError } from "./errors.ts";
import { OFPP11_MAX, OFPP11_OFFSET } from "./types.ts";

const OFPP_MAX = 0xff00;

export function portFromOf11(port: number): number {
  if (port < OFPP_MAX) return port;
  if (port >= OFPP11_MAX) return port - OFPP11_OFFSET;
  throw new OfpError("OFPBAC_BAD_OUT_PORT");
}

export function portToOf11(port: number): number {
  return port >= OFPP_MAX ? (port + OFPP11_OFFSET) >>> 0 : port;
}
