/**
 * ukey_acquire() for a revalidator's dump: the dumped flow's ukey, locked;
 * or, for a flow nobody installed, a new ukey that adopts it; or none,
 * when another thread holds the ukey or the flow cannot be adopted (a
 * recirculated flow: then it is queued for deletion).
 *
 * Thread-safety: runs on a revalidator thread; takes the ukey's lock
 * without waiting (a held ukey counts as contention), except for a
 * handler's install being finished (UkeyPool.tryLockForRevalidation).
 */
import { F, odpFormatUfid } from "../flow/mod.ts";
import { coverageCounter, getLogger, timeMsec } from "../lib/mod.ts";
import { actionsDigest } from "./actions_digest.ts";
import { flowKeyHash, type UdpifContext } from "./handler.ts";
import type { DumpedFlow } from "./ports.ts";
import { RateLimit } from "./_rate_limit.ts";
import { UKEY_DELETE } from "./revalidate_ukey.ts";
import type { Ops } from "./_ukey_ops.ts";

const covContention = coverageCounter("upcall_ukey_contention");
const log = getLogger("ofproto_dpif_upcall");
const rlUnexpected = new RateLimit(10, 60);

/**
 * The slot of `f`'s ukey, locked, or -1; an unadoptable flow's delete is
 * added to `ops`. `digest` is scratch for an adopted flow's actions digest.
 * `hint` is where the ukey probably is (the slot after the last one
 * found: ukeys are made in the order the datapath dumps their flows).
 */
export function ukeyAcquire(
  ctx: UdpifContext,
  f: DumpedFlow,
  revalSeq: number,
  ops: Ops,
  digest: Uint32Array,
  hint: number,
): number {
  const { ukeys, dpif } = ctx;
  let slot = ukeys.lookupFrom(hint, f.ufid, f.pmd);
  if (slot >= 0) {
    if (ukeys.tryLockForRevalidation(slot)) return slot;
    covContention.inc();
    return -1;
  }
  // Adopting reads the flow's key and actions, which a terse dump leaves out.
  if (!dpif.dumpFill(f)) return -1;
  const adoptable = f.key[F.recirc_id.off >> 2] === 0 &&
    !dpif.flowActions(f).some((a) => a.type === "recirc");
  if (!adoptable) {
    logUnexpected(f, "Invalid argument");
    ops.add(UKEY_DELETE, -1, 0, f);
    return -1;
  }
  slot = ukeys.alloc();
  if (slot < 0) {
    covContention.inc();
    return -1;
  }
  ukeys.init(slot, f.ufid, f.pmd, flowKeyHash(f.key), (revalSeq - 1) | 0, f.used, timeMsec());
  ukeys.setActionsDigest(slot, actionsDigest(dpif.flowActions(f), digest));
  ukeys.lock(slot);
  const r = ukeys.install(slot);
  if (r === "installed" || r === "replaced") return slot;
  ukeys.unlock(slot);
  ukeys.free(slot);
  covContention.inc();
  return -1;
}

/** log_unexpected_flow(). */
function logUnexpected(f: DumpedFlow, error: string): void {
  if (rlUnexpected.allow()) {
    log.warn(
      `Failed to acquire udpif_key corresponding to unexpected flow (${error}): ${
        odpFormatUfid(f.ufid)
      }`,
    );
  }
}
