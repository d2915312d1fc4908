/**
 * The conformance replays in wire mode within `make test`: a
 * representative subset of the cases, each `ovs-ofctl` line (the initial
 * add-flows, the cases' own add/mod/del-flows with --strict, cookies and
 * -O OpenFlow13, and the final dump-flows) run by the real ovs-ofctl
 * against udpif's br0.mgmt, compared with what OVS printed. The whole set
 * in wire mode is `CONFORMANCE_OFCTL=wire deno test -A
 * tests/conformance/conformance_test.ts` (about 5 minutes).
 */
import { loadCase } from "./case.ts";
import { configFromEnv, diffFromOvs, replayCase } from "./replay.ts";
import { ensureTestDeps } from "../support/veth_topology.ts";
import { reapStale } from "./stale.ts";

const HERE = new URL(".", import.meta.url).pathname;
const UDPIF = new URL("../../bin/udpif", import.meta.url).pathname;

/**
 * A case per kind of ovs-ofctl use: each flow-mod command, OpenFlow 1.3,
 * wide NXM masks, timeouts; and port desc and stats over the wire (show,
 * dump-ports-desc, dump-ports, mod-port), patch ports included.
 */
const SUBSET = [
  "del-flows-strict",
  "del-flows-match",
  "mod-flows-strict",
  "mod-cookie",
  "mod-narrower-rule-deletes",
  "f-mod-flows-in-place",
  "rw-set-field-masked-of13",
  "tbl-metadata",
  "vlan-push-vlan-action",
  "ip6-label-wide-mask",
  "idle-rule-hard-timeout",
  "patch-ports-stats",
];

/** Replays at once: they mostly wait on revalidator cycles. */
const JOBS = 3;

await reapStale();
const cfg = { ...configFromEnv(UDPIF), ofctl: "wire" as const };
let installed: Promise<void> | undefined;

/** scripts/install-test-deps.sh installs ovs-ofctl when it is missing (once per run). */
function ensureOvsOfctl(): Promise<void> {
  installed ??= ensureTestDeps();
  return installed;
}

const outcomes = new Map<string, Promise<string>>();

/** Starts the replays of `SUBSET[i..i+JOBS)` not started yet; each resolves to its diff. */
function startFrom(i: number): void {
  for (const name of SUBSET.slice(i, i + JOBS)) {
    if (outcomes.has(name)) continue;
    outcomes.set(
      name,
      ensureOvsOfctl().then(async () => {
        const c = await loadCase(`${HERE}cases/${name}`);
        const r = await replayCase(c, cfg);
        return diffFromOvs(c, r.normalized, "udpif, real ovs-ofctl over OpenFlow");
      }),
    );
  }
}

SUBSET.forEach((name, i) => {
  Deno.test({
    name: `conformance over OpenFlow (real ovs-ofctl): ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      startFrom(i);
      const diff = await outcomes.get(name)!;
      if (diff !== "") throw new Error(`udpif's output differs from OVS's:\n${diff}`);
    },
  });
});
