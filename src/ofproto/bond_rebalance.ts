/**
 * Moving a bond's buckets by their load (ofproto/bond.c bond_rebalance,
 * choose_entries_to_migrate, bond_shift_load, insert_bal, log_bals and
 * bond_recirculation_account's bond_entry_account): each bucket has
 * carried some bytes since the last rebalance; the enabled members are
 * ranked by the sum of their buckets' bytes, and buckets move from the
 * most to the least loaded member while that brings the two at least
 * 10% of the way to their mid point and the gap is worth it (more than
 * ~3% and 100000 bytes). Then every count is halved, an exponentially
 * weighted moving average.
 *
 * Thread-safety: main thread (bond_rebalance runs at a flow-accounting
 * checkpoint); bucket counts and members are read and written through
 * the `Bond`'s lock.
 */
import { getLogger, vlogDebugEnabled } from "../lib/mod.ts";
import { type Bond, BOND_BUCKETS } from "./bond.ts";

const log = getLogger("bond");

/** Below this much extra load (bytes, ~1 Mbps over 10 s), no bucket moves. */
const MIN_OVERLOAD = 100000;

/**
 * bond_entry_account for every bucket of a recirculating bond: the
 * bytes its post-recirculation rule counted since `prevBytes[bucket]`
 * (`ruleBytes` gives the rule's count, undefined when it has no rule).
 * A rule that was replaced counts again from zero.
 */
export function accountRecircRules(
  bond: Bond,
  prevBytes: number[],
  ruleBytes: (bucket: number) => number | undefined,
): void {
  bond.updateTxBytes((b, tx) => {
    const now = ruleBytes(b);
    if (now === undefined || bond.bucketMember(b) < 0) return tx;
    const delta = now >= prevBytes[b] ? now - prevBytes[b] : now;
    prevBytes[b] = now;
    return tx + delta;
  });
}

interface Balance {
  /** Each member's load: the sum of its buckets'. */
  load: number[];
  /** Each member's loaded buckets, heaviest first. */
  entries: number[][];
  /** The buckets' loads. */
  tx: number[];
}

/** insert_bal: keeps `bals` (member indices) in descending order of load. */
function insertBal(bals: number[], m: number, load: number[]): void {
  let k = 0;
  while (k < bals.length && !(load[m] > load[bals[k]])) k++;
  bals.splice(k, 0, m);
}

function reinsertBal(bals: number[], m: number, load: number[]): void {
  bals.splice(bals.indexOf(m), 1);
  insertBal(bals, m, load);
}

/**
 * choose_entries_to_migrate: the buckets to move from `from` to a member
 * carrying `toLoad`, heaviest first while they fit under the ideal
 * shift, or the lightest one if none fits; none unless the move brings
 * the lighter side at least 10% of the ideal shift closer.
 */
function chooseEntries(bal: Balance, from: number, toLoad: number): number[] {
  const entries = bal.entries[from];
  if (entries.length <= 1) return [];
  const ideal = Math.floor((bal.load[from] + toLoad) / 2);
  const idealDelta = ideal - toLoad;
  const threshold = Math.floor(idealDelta / 10);
  const chosen: number[] = [];
  let delta = 0;
  for (const e of entries) {
    if (delta + bal.tx[e] <= idealDelta) {
      chosen.push(e);
      delta += bal.tx[e];
    }
    if (idealDelta - delta < threshold) break;
  }
  if (!chosen.length) {
    const closest = entries[entries.length - 1];
    chosen.push(closest);
    delta = bal.tx[closest];
  }
  const newLow = Math.min(bal.load[from] - delta, toLoad + delta);
  return newLow > toLoad && newLow - toLoad >= threshold ? chosen : [];
}

/** log_bals, at debug level. */
function logBals(bond: Bond, bal: Balance, bals: number[]): void {
  if (!vlogDebugEnabled("bond")) return;
  const kb = (n: number) => Math.floor(n / 1024);
  const parts = bals.map((m) => {
    let s = ` ${bond.config.members[m].name} ${kb(bal.load[m])}kB`;
    if (!bond.enabled(m)) s += " (disabled)";
    if (bal.entries[m].length) {
      s += ` (${bal.entries[m].map((e) => `h${e}: ${kb(bal.tx[e])}kB`).join(" + ")})`;
    }
    return s;
  });
  log.debug(`bond ${bond.config.name}:${parts.join(",")}`);
}

/**
 * bond_rebalance's moves and halving, once it is time: true when a
 * bucket moved (flows through it must be revalidated).
 */
export function rebalanceBuckets(bond: Bond): boolean {
  const members = bond.config.members;
  const tx: number[] = [];
  for (let b = 0; b < BOND_BUCKETS; b++) tx.push(bond.bucketTxBytes(b));
  const bal: Balance = { load: members.map(() => 0), entries: members.map(() => []), tx };
  // Sorted heaviest first, so each member's entries are too.
  const hashes = [...tx.keys()].sort((a, b) => tx[b] - tx[a]);
  for (const h of hashes) {
    const m = bond.bucketMember(h);
    if (m >= 0 && tx[h]) {
      bal.load[m] += tx[h];
      bal.entries[m].push(h);
    }
  }
  const bals: number[] = [];
  members.forEach((_, m) => {
    if (bond.enabled(m)) insertBal(bals, m, bal.load);
  });
  logBals(bond, bal, bals);

  let rebalanced = false;
  while (bals.length >= 2) {
    const from = bals[0], to = bals[bals.length - 1];
    const overload = bal.load[from] - bal.load[to];
    if (overload < Math.floor(bal.load[to] / 32) || overload < MIN_OVERLOAD) break;
    const chosen = chooseEntries(bal, from, bal.load[to]);
    if (!chosen.length) {
      bals.shift();
      continue;
    }
    for (const e of chosen) {
      shiftLoad(bond, bal, e, from, to);
      bal.entries[from].splice(bal.entries[from].indexOf(e), 1);
      reinsertBal(bals, from, bal.load);
      reinsertBal(bals, to, bal.load);
    }
    rebalanced = true;
  }
  bond.updateTxBytes((_, n) => Math.floor(n / 2));
  return rebalanced;
}

/** bond_shift_load: bucket `e` moves from member `from` to `to`. */
function shiftLoad(bond: Bond, bal: Balance, e: number, from: number, to: number): void {
  const delta = bal.tx[e], names = bond.config.members;
  const kb = (n: number) => Math.floor(n / 1024);
  log.info(
    `bond ${bond.config.name}: shift ${kb(delta)}kB of load (with hash ${e}) from ${
      names[from].name
    } to ${names[to].name} (now carrying ${kb(bal.load[from] - delta)}kB and ${
      kb(bal.load[to] + delta)
    }kB load, respectively)`,
  );
  bal.load[from] -= delta;
  bal.load[to] += delta;
  bond.setBucketMember(e, to);
}
