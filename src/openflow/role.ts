/**
 * Controller roles (OVS's ofputil_decode_role_message and
 * ofputil_encode_role_reply): OpenFlow 1.2+'s OFPT_ROLE_REQUEST with its
 * generation id, and Nicira's NXT_ROLE_REQUEST for OpenFlow 1.0 (other,
 * master, slave; no generation id). Roles are named as OVS 3.1 names
 * them: equal, primary, secondary.
 */
import { WireReader, WireWriter } from "./_buf.ts";
import { encodeHeader } from "./header.ts";
import { finishMessage, OfpError } from "./errors.ts";
import {
  NX_VENDOR_ID,
  NXT_ROLE_REPLY,
  OFP10_VERSION,
  OFPT12_ROLE_REPLY,
  OFPT_VENDOR,
} from "./types.ts";

export type ControllerRole = "nochange" | "equal" | "primary" | "secondary";

/** OFPCR12_ROLE_* numbers; Nicira's NX_ROLE_* are other(0), master(1), slave(2). */
const OF12_ROLES: ControllerRole[] = ["nochange", "equal", "primary", "secondary"];
const NX_ROLES: ControllerRole[] = ["equal", "primary", "secondary"];

export interface RoleRequest {
  role: ControllerRole;
  /** Only with a primary or secondary role in OpenFlow 1.2+. */
  generationId?: bigint;
}

/** A role request: OFPT_ROLE_REQUEST (1.3) or NXT_ROLE_REQUEST (1.0, `nx`). */
export function decodeRoleRequest(msg: Uint8Array, nx: boolean): RoleRequest {
  const r = new WireReader(msg, "OFPBRC_BAD_LEN", nx ? 16 : 8);
  const code = r.u32();
  const role = (nx ? NX_ROLES : OF12_ROLES)[code];
  if (role === undefined) throw new OfpError("OFPRRFC_BAD_ROLE");
  if (nx) return { role };
  r.skip(4);
  const generationId = r.u64();
  return role === "primary" || role === "secondary" ? { role, generationId } : { role };
}

/** The reply: the connection's role now, and the election id if one was ever set. */
export function encodeRoleReply(
  version: number,
  xid: number,
  role: Exclude<ControllerRole, "nochange">,
  generationId: bigint | undefined,
): Uint8Array {
  const w = new WireWriter();
  if (version === OFP10_VERSION) {
    encodeHeader(w, version, OFPT_VENDOR, xid);
    w.u32(NX_VENDOR_ID).u32(NXT_ROLE_REPLY).u32(NX_ROLES.indexOf(role));
  } else {
    encodeHeader(w, version, OFPT12_ROLE_REPLY, xid);
    w.u32(OF12_ROLES.indexOf(role)).zeros(4).u64(generationId ?? (1n << 64n) - 1n);
  }
  return finishMessage(w);
}
