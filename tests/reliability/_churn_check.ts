/**
 * The check revalidation exists for: once `revalidator/wait` has run
 * twice (`settle`), every datapath flow's actions equal a fresh
 * translation of its key (`ofproto/trace` of the dumped key) and its mask
 * covers every bit that translation's megaflow un-wildcards (`checkFlows`).
 *
 * Why through the daemon and `ofproto/trace` rather than the xlate layer
 * in-process: the property is about the whole path (rule replicas in each
 * worker, reval_seq, MAC learning moves, the PMD's flow table), and the
 * trace is the switch's own fresh translation on the master tables.
 *
 * The key traced is the flow's full key as `dpctl/dump-flows -m` shows it
 * (the packet the flow was set up from, the ukey's key), not the masked
 * key: megaflows are not canonical (a classifier trie un-wildcards only
 * the prefix bits that rule out the point looked up), so another point of
 * the same megaflow may un-wildcard bits this one never needed. OVS's
 * revalidate_ukey compares exactly this: the fresh wildcards of the ukey's
 * key must have no bit the installed mask lacks.
 */
import { bytesOf, F, type FlowKey, newKey, parseOdpKey } from "../../src/flow/mod.ts";
import { type Match, parseKeyValues, parseMatchItem } from "../../src/ofproto/mod.ts";
import { appctl, AppctlError } from "./_daemon.ts";

/** A datapath flow that a fresh translation disagrees with. */
export interface Violation {
  kind: "actions" | "mask-too-wide";
  flow: string;
  installed: string;
  expected: string;
}

/** A `dpctl/dump-flows -m` line: the flow (full key, with masks) and its actions. */
const FLOW_LINE =
  /^(?:ufid:([0-9a-f-]+),? )?(.*), packets:\d+, bytes:\d+, used:[^,]+, (?:dp:\w+, )?actions:(.*?)(?:, dp-extra-info:.*)?$/;

/**
 * Whether the flow with `ufid` is still installed with `actions`. The
 * check runs while the revalidators do (idle expiry, the flow limit): a
 * flow deleted or modified between the dump and its trace is no
 * violation (its recirculation ids, for one, may be freed and handed out
 * anew by then), and the next check sees what replaced it.
 */
async function stillInstalled(socket: string, ufid: string, actions: string): Promise<boolean> {
  try {
    const line = await appctl(socket, "dpctl/get-flow", [`ufid:${ufid}`]);
    return FLOW_LINE.exec(line.trim())?.[3] === actions;
  } catch (e) {
    if (e instanceof AppctlError) return false;
    throw e;
  }
}

/** Field names by byte offset, to name the bits a too-wide mask misses. */
const FIELD_AT: string[] = (() => {
  const names: string[] = [];
  for (const [name, span] of Object.entries(F)) {
    for (let i = 0; i < span.len; i++) names[span.off + i] ??= name;
  }
  return names;
})();

/** The mask of an `ofproto/trace` "Megaflow:" line (OpenFlow match syntax). */
export function megaflowMask(text: string): FlowKey {
  const m: Match = { key: newKey(), mask: newKey() };
  for (const { key, value } of parseKeyValues(text)) {
    // `eth` is packet_type=(0,0), which every datapath flow matches exactly.
    if (key === "eth") continue;
    // recirc_id is a datapath field with no OpenFlow match field; megaflows match it exactly.
    if (key === "recirc_id") {
      bytesOf(m.mask).fill(0xff, F.recirc_id.off, F.recirc_id.off + F.recirc_id.len);
      continue;
    }
    if (!parseMatchItem(m, key, value)) {
      throw new Error(`megaflow: unknown field ${key} in ${text}`);
    }
  }
  return m.mask;
}

/**
 * The trace's datapath actions as a flow would carry them: the trace runs
 * without side effects, so its controller actions say dont_send=1 where a
 * handler's or revalidator's translation says 0 (OVS's
 * xlate_controller_action sets it when neither side effects nor an xlate
 * cache are wanted).
 */
function comparableActions(actions: string): string {
  return actions.replaceAll(",dont_send=1,", ",dont_send=0,");
}

/**
 * Checks every `every`th datapath flow (all by default) against
 * `ofproto/trace` of its key; returns how many flows there were, how many
 * were checked, and what disagreed.
 */
export async function checkFlows(
  socket: string,
  every = 1,
): Promise<{ flows: number; checked: number; ctFlows: number; violations: Violation[] }> {
  const dump = await appctl(socket, "dpctl/dump-flows", ["-m", "--no-names"]);
  const violations: Violation[] = [];
  let flows = 0, checked = 0, ctFlows = 0;
  for (const line of dump.split("\n")) {
    const m = FLOW_LINE.exec(line);
    if (!m || flows++ % every !== 0) continue;
    checked++;
    const [, ufid, flow, installed] = m;
    if (/(^|,)ct(\(|,|$)|recirc_id\(0x/.test(installed + "," + flow)) ctFlows++;
    const key = newKey(), mask = newKey();
    parseOdpKey(flow, key, mask);
    // `-m` shows the key the flow was set up from (a ukey's key), masks
    // aside: that key is what revalidation translates.
    const trace = await appctl(socket, "ofproto/trace", [flow.replace(/\/[^,)]+/g, "")]);
    const expected = /^Datapath actions: (.*)$/m.exec(trace)?.[1];
    const megaflow = /^Megaflow: (.*)$/m.exec(trace)?.[1];
    if (expected === undefined || megaflow === undefined) {
      throw new Error(`ofproto/trace ${flow}: no datapath actions or megaflow in\n${trace}`);
    }
    const wrongActions = comparableActions(expected) !== installed;
    const wanted = bytesOf(megaflowMask(megaflow)), have = bytesOf(mask);
    const missing = new Set<string>();
    for (let i = 0; i < wanted.length; i++) {
      if (wanted[i] & ~have[i]) missing.add(FIELD_AT[i] ?? `byte ${i}`);
    }
    if (!wrongActions && !missing.size) continue;
    if (!await stillInstalled(socket, ufid, installed)) continue;
    if (wrongActions) violations.push({ kind: "actions", flow, installed, expected });
    if (missing.size) {
      violations.push({
        kind: "mask-too-wide",
        flow,
        installed: `mask lacks ${[...missing].join(", ")}`,
        expected: megaflow,
      });
    }
  }
  return { flows, checked, ctFlows, violations };
}

/** How many pairs of revalidations `settle` allows for the MAC table to come to rest. */
const SETTLE_ROUNDS = 20;

/**
 * `revalidator/wait` twice, again while the MAC table keeps changing. A
 * revalidator pushing a flow's last stats relearns its source MAC (the
 * xlate cache's NORMAL entry, as OVS's xlate_push_stats does), which may
 * move a MAC another flow's packets had moved, and so asks for one more
 * revalidation (rev_mac_learning); once traffic stops, every flow's stats
 * are pushed within a dump, so the table comes to rest.
 */
export async function settle(socket: string): Promise<void> {
  const moves = () => appctl(socket, "coverage/read-counter", ["rev_mac_learning"]);
  let before = await moves();
  for (let i = 0; i < SETTLE_ROUNDS; i++) {
    await appctl(socket, "revalidator/wait");
    await appctl(socket, "revalidator/wait");
    const after = await moves();
    if (after === before) return;
    before = after;
  }
  throw new Error(`the MAC table was still changing after ${SETTLE_ROUNDS} pairs of revalidations`);
}
