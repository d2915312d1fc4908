/** The udpif release, and the line `version` replies with (OVS: "PROGRAM (PACKAGE) VERSION"). */
export const VERSION = "0.1.0";

export const PROGRAM_VERSION = `udpif (udpif) ${VERSION}`;
