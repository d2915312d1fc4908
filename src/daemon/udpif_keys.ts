/**
 * The other_config keys a bridge hands to its udpif (Udpif.configure),
 * with the UdpifConfig field each one sets.
 */
export const UDPIF_KEYS: Readonly<Record<string, string>> = {
  "flow-limit": "flowLimit",
  "max-idle": "maxIdle",
  "max-revalidator": "maxRevalidator",
  "min-revalidate-pps": "minRevalidatePps",
  "n-handler-threads": "nHandlerThreads",
  "n-revalidator-threads": "nRevalidatorThreads",
  "ovs-compat": "ovsCompat",
};
