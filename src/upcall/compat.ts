/**
 * Which Open vSwitch udpif follows where releases differ. udpif was built
 * to OVS 3.1; later releases changed a few things in the upcall and
 * revalidator code (stale ukeys dropped, deletion reasons, flow-limit
 * counters, purge pausing the revalidators, stats handling). The newest
 * behaviour is the default; `other_config:ovs-compat=3.1` restores 3.1's
 * wherever the two differ (the README lists each difference), which is
 * how the conformance cases recorded from OVS 3.1 replay.
 *
 * The mode lives in UdpifShared (one word), so handlers and revalidators
 * read it without a message.
 */

/** The newest behaviour (the default). */
export const OVS_COMPAT_LATEST = 0;
/** OVS 3.1's behaviour. */
export const OVS_COMPAT_3_1 = 1;

/** The values `ovs-compat` takes, in OVS_COMPAT_* order. */
export const OVS_COMPAT_NAMES: readonly string[] = ["latest", "3.1"];
