/**
 * OpenFlow error replies (OVS's lib/ofp-errors.c and the codes listed in
 * include/openvswitch/ofp-errors.h): each error udpif sends has a name
 * and, per OpenFlow version, the (type, code) pair OVS puts on the wire,
 * including OVS's nonstandard codes (NX1.0 (1,522) and the like) for
 * errors OpenFlow 1.0 has no code for. An OFPT_ERROR carries the message
 * that failed, whole, as ofperr_encode_reply does (cut only where the
 * reply would outgrow OpenFlow's 16-bit length).
 */
import { OFPT_ERROR } from "./types.ts";
import { WireWriter } from "./_buf.ts";
import { encodeHeader } from "./header.ts";

/** [OF1.0 type, code], [OF1.1+ type, code]. */
const CODES = {
  OFPHFC_INCOMPATIBLE: [[0, 0], [0, 0]],
  OFPBRC_BAD_VERSION: [[1, 0], [1, 0]],
  OFPBRC_BAD_TYPE: [[1, 1], [1, 1]],
  OFPBRC_BAD_STAT: [[1, 2], [1, 2]],
  OFPBRC_BAD_VENDOR: [[1, 3], [1, 3]],
  OFPBRC_BAD_SUBTYPE: [[1, 4], [1, 4]],
  OFPBRC_EPERM: [[1, 5], [1, 5]],
  OFPBRC_BAD_LEN: [[1, 6], [1, 6]],
  OFPBRC_BAD_TABLE_ID: [[1, 512], [1, 9]],
  OFPBRC_BUFFER_UNKNOWN: [[1, 8], [1, 8]],
  OFPBRC_BAD_PORT: [[1, 514], [1, 11]],
  OFPBRC_IS_SLAVE: [[1, 5], [1, 10]],
  OFPRRFC_STALE: [[1, 5], [11, 0]],
  OFPRRFC_BAD_ROLE: [[1, 513], [11, 2]],
  NXBRC_NXM_INVALID: [[1, 256], [1, 256]],
  OFPBAC_BAD_TYPE: [[2, 0], [2, 0]],
  OFPBAC_BAD_LEN: [[2, 1], [2, 1]],
  OFPBAC_BAD_VENDOR: [[2, 2], [2, 2]],
  OFPBAC_BAD_VENDOR_TYPE: [[2, 3], [2, 3]],
  OFPBAC_BAD_OUT_PORT: [[2, 4], [2, 4]],
  OFPBAC_BAD_ARGUMENT: [[2, 5], [2, 5]],
  OFPBAC_MATCH_INCONSISTENT: [[1, 522], [2, 10]],
  OFPBAC_BAD_SET_TYPE: [[1, 523], [2, 13]],
  OFPBAC_BAD_SET_LEN: [[1, 524], [2, 14]],
  OFPBAC_BAD_SET_ARGUMENT: [[1, 525], [2, 15]],
  OFPBIC_UNKNOWN_INST: [[2, 257], [3, 0]],
  OFPBIC_UNSUP_INST: [[2, 257], [3, 1]],
  OFPBIC_BAD_TABLE_ID: [[2, 257], [3, 2]],
  OFPBMC_BAD_TYPE: [[1, 263], [4, 0]],
  OFPBMC_BAD_LEN: [[1, 263], [4, 1]],
  OFPBMC_BAD_FIELD: [[0, 263], [4, 6]],
  OFPBMC_BAD_VALUE: [[1, 258], [4, 7]],
  OFPBMC_BAD_PREREQ: [[1, 260], [4, 9]],
  OFPBMC_DUP_FIELD: [[1, 261], [4, 10]],
  OFPFMFC_OVERLAP: [[3, 1], [5, 3]],
  OFPQOFC_BAD_PORT: [[5, 0], [9, 0]],
  OFPQOFC_BAD_QUEUE: [[5, 1], [9, 1]],
  OFPPMFC_BAD_PORT: [[4, 0], [7, 0]],
  OFPPMFC_BAD_HW_ADDR: [[4, 1], [7, 1]],
  OFPFMFC_BAD_COMMAND: [[3, 4], [5, 6]],
  OFPFMFC_BAD_TABLE_ID: [[1, 512], [5, 2]],
  OFPBAC_BAD_OUT_GROUP: [[2, 9], [2, 9]],
  OFPGMFC_GROUP_EXISTS: [[6, 0], [6, 0]],
  OFPGMFC_INVALID_GROUP: [[6, 1], [6, 1]],
  OFPGMFC_WATCH_UNSUPPORTED: [[6, 6], [6, 6]],
  OFPGMFC_UNKNOWN_GROUP: [[6, 8], [6, 8]],
  OFPGMFC_BAD_TYPE: [[6, 10], [6, 10]],
  OFPGMFC_BAD_COMMAND: [[6, 11], [6, 11]],
  OFPGMFC_BAD_BUCKET: [[6, 12], [6, 12]],
  OFPGMFC_UNKNOWN_BUCKET: [[6, 15], [6, 15]],
  OFPGMFC_BUCKET_EXISTS: [[6, 16], [6, 16]],
  OFPBPC_BAD_VALUE: [[13, 4], [13, 4]],
} as const satisfies Record<
  string,
  readonly [readonly [number, number], readonly [number, number]]
>;

export type OfpErrorName = keyof typeof CODES;

/**
 * Errors whose OpenFlow 1.0 code is a Nicira vendor error (OVS's
 * "NX1.0(t,c)"): sent as NXET_VENDOR/NXVC_VENDOR_ERROR with a
 * nx_vendor_error {vendor, type, code} before the request.
 */
const NX10_VENDOR: ReadonlySet<OfpErrorName> = new Set<OfpErrorName>([
  "OFPBAC_BAD_OUT_GROUP",
  "OFPGMFC_GROUP_EXISTS",
  "OFPGMFC_INVALID_GROUP",
  "OFPGMFC_WATCH_UNSUPPORTED",
  "OFPGMFC_UNKNOWN_GROUP",
  "OFPGMFC_BAD_TYPE",
  "OFPGMFC_BAD_COMMAND",
  "OFPGMFC_BAD_BUCKET",
  "OFPGMFC_UNKNOWN_BUCKET",
  "OFPGMFC_BUCKET_EXISTS",
  "OFPBPC_BAD_VALUE",
]);
const NXET_VENDOR = 0xb0c2;
const NX_VENDOR_ID = 0x00002320;

/** A request that fails with an OpenFlow error; the connection carries on. */
export class OfpError extends Error {
  constructor(readonly errorName: OfpErrorName) {
    super(errorName);
  }
}

/** The (type, code) OVS sends for `name` in OpenFlow `version`. */
export function errorCode(name: OfpErrorName, version: number): readonly [number, number] {
  return CODES[name][version === 1 ? 0 : 1];
}

/** The error name OVS gives (type, code) in `version`, if udpif knows it. */
export function errorName(type: number, code: number, version: number): OfpErrorName | undefined {
  const slot = version === 1 ? 0 : 1;
  for (const [name, codes] of Object.entries(CODES)) {
    if (codes[slot][0] === type && codes[slot][1] === code) return name as OfpErrorName;
  }
  return undefined;
}

/** Room for the failed request in an OFPT_ERROR (header and type/code take 12 bytes). */
const MAX_ERROR_DATA = 0xffff - 12;

/** OFPT_ERROR answering `request`, which rides along. */
export function encodeError(name: OfpErrorName, version: number, request: Uint8Array): Uint8Array {
  const [type, code] = errorCode(name, version);
  const xid = request.length >= 8
    ? ((request[4] << 24) >>> 0) + ((request[5] << 16) | (request[6] << 8) | request[7])
    : 0;
  const w = new WireWriter();
  // A version OVS has no error domain for gets OpenFlow 1.0's.
  encodeHeader(w, version >= 1 && version <= 6 ? version : 1, OFPT_ERROR, xid);
  if (version === 1 && NX10_VENDOR.has(name)) {
    w.u16(NXET_VENDOR).u16(0).u32(NX_VENDOR_ID).u16(type).u16(code);
    w.bytes(request.subarray(0, MAX_ERROR_DATA - 8));
    return finishMessage(w);
  }
  w.u16(type).u16(code).bytes(request.subarray(0, MAX_ERROR_DATA));
  return finishMessage(w);
}

/** Writes the total length into the header and returns the message. */
export function finishMessage(w: WireWriter): Uint8Array {
  w.setU16(2, w.length);
  return w.finish();
}
