/**
 * The udpif release, and the line the `version` command replies with (OVS:
 * "PROGRAM (PACKAGE) VERSION"; lib/unixctl.c serves it on every socket).
 */
export const VERSION = "0.1.0";

export const PROGRAM_VERSION = `udpif (udpif) ${VERSION}`;
