/**
 * A malformed flow, match or action in ovs-ofctl syntax. The message is one
 * line naming the bad part, worded like ovs-ofctl's own errors.
 */
export class OfctlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OfctlError";
  }
}
