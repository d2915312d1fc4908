/**
 * A packet as `netdev-dummy/receive` accepts it: either hex bytes, or a
 * datapath flow spec optionally followed by `--len N`, which is composed
 * into the packet OVS would build for it.
 */
import { type FlowKey, newKey } from "./key.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { flowCompose } from "./compose.ts";
import { clearUnreadFields, odpKeyFit } from "./odp_key_fit.ts";
import { OdpParseError } from "./_scan.ts";
import { isHexPacket, PACKET_MAX_LEN, parseHexPacket } from "../packet/mod.ts";

/**
 * The flow key of a packet spec, as eth_from_flow_str reads it: parsed,
 * refused only when odp_flow_key_to_flow finds it in error (OdpParseError
 * with OVS's message), and holding only what that function reads, so the
 * packet composed from it is OVS's (tcp() under proto=17 gives UDP ports
 * 0).
 */
export function parsePacketKey(text: string, key: FlowKey): void {
  const level = parseOdpKey(text, key, newKey());
  const fit = odpKeyFit(level, key);
  if (fit.error) {
    const e = new OdpParseError(text, fit.error);
    e.ovs = `${fit.error}; the flow key in error is: ${text}`;
    throw e;
  }
  clearUnreadFields(level, fit, key);
}

/**
 * Parses `spec` into `out` and returns the packet length. Throws
 * OdpParseError naming the bad part (a bad flow token, a bad `--len`, or
 * "too small packet len" as OVS says it).
 */
export function parsePacketSpec(
  spec: string,
  out: Uint8Array = new Uint8Array(PACKET_MAX_LEN),
): number {
  let text = spec.trim();
  if (isHexPacket(text)) return parseHexPacket(text, out);
  let packetLen = 0;
  const m = /\s+--len\s+(\S+)$/.exec(text);
  if (m) {
    if (!/^[0-9]+$/.test(m[1])) throw new OdpParseError(m[1], "bad --len");
    packetLen = Number(m[1]);
    text = text.slice(0, m.index);
  }
  const key = newKey();
  parsePacketKey(text, key);
  const len = flowCompose(key, out, packetLen);
  if (len < 0) {
    const e = new OdpParseError(
      `--len ${packetLen}`,
      packetLen ? "too small packet len" : "packet too long",
    );
    if (packetLen) e.ovs = "too small packet len";
    throw e;
  }
  return len;
}
