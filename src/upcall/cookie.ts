/**
 * The userspace action's cookie (struct user_action_cookie, 48 bytes,
 * host byte order): how handlers tell a slow-path upcall from a sample or
 * a controller one, and how slow-path flows name their reason.
 */
export const COOKIE_BYTES = 48;

export const USER_ACTION_COOKIE_UNSPEC = 0;
export const USER_ACTION_COOKIE_SFLOW = 1;
export const USER_ACTION_COOKIE_SLOW_PATH = 2;
export const USER_ACTION_COOKIE_FLOW_SAMPLE = 3;
export const USER_ACTION_COOKIE_IPFIX = 4;
export const USER_ACTION_COOKIE_CONTROLLER = 5;

/** What a handler does with an upcall (enum upcall_type). */
export const BAD_UPCALL = 0;
export const MISS_UPCALL = 1;
export const SLOW_PATH_UPCALL = 2;
export const SFLOW_UPCALL = 3;
export const FLOW_SAMPLE_UPCALL = 4;
export const IPFIX_UPCALL = 5;
export const CONTROLLER_UPCALL = 6;

/** classify_upcall(): the cookie's type decides; a cookie of the wrong size is bad. */
export function classifyCookie(userdata: Uint8Array, len: number): number {
  if (len !== COOKIE_BYTES) return BAD_UPCALL;
  switch (userdata[0] | (userdata[1] << 8)) {
    case USER_ACTION_COOKIE_SFLOW:
      return SFLOW_UPCALL;
    case USER_ACTION_COOKIE_SLOW_PATH:
      return SLOW_PATH_UPCALL;
    case USER_ACTION_COOKIE_FLOW_SAMPLE:
      return FLOW_SAMPLE_UPCALL;
    case USER_ACTION_COOKIE_IPFIX:
      return IPFIX_UPCALL;
    case USER_ACTION_COOKIE_CONTROLLER:
      return CONTROLLER_UPCALL;
    default:
      return BAD_UPCALL;
  }
}

/**
 * A slow-path cookie (compose_slow_path). Layout: type u16 at 0, the
 * 32-bit OpenFlow in_port at 4, the bridge UUID at 8, then the union at
 * 24; for slow path, the reasons (u32) at 28.
 */
export function slowPathCookie(ofpInPort: number, uuid: Uint8Array, reason: number): Uint8Array {
  const c = new Uint8Array(COOKIE_BYTES);
  const v = new DataView(c.buffer);
  v.setUint16(0, USER_ACTION_COOKIE_SLOW_PATH, true);
  v.setUint32(4, ofpInPort >>> 0, true);
  c.set(uuid.subarray(0, 16), 8);
  v.setUint32(28, reason >>> 0, true);
  return c;
}
