/**
 * `memory/show` (lib/memory.c's compose_report over bridge_get_memory_usage):
 * one line of `name:count` pairs, sorted by name, counts of zero left
 * out, each count a figure that memory use grows with. The names and
 * their sources are OVS's: `handlers`, `revalidators` and `udpif keys`
 * from udpif_get_memory_usage, `ports` and `rules` from
 * ofproto_get_memory_usage. udpif adds `recirc ids`, the recirculation
 * ids referenced now (OVS keeps them in ofproto-dpif-rid.c but does not
 * report them), so a soak can see them come and go with their ukeys.
 * OVS answers at its next memory check; udpif answers at once.
 *
 * Thread-safety: main thread; reads counts other threads update
 * (approximate while they run, as OVS's cmap_count is).
 */
import { CommandError, registerCommand } from "../lib/mod.ts";
import type { Bridge } from "./bridge.ts";

/** The usage counts of `b`, by OVS's names. */
export function memoryUsage(b: Bridge): Map<string, number> {
  return new Map([
    ["handlers", b.udpif.nHandlers],
    ["ports", b.allPorts().length],
    ["recirc ids", b.recircIds.inUse()],
    ["revalidators", b.udpif.nRevalidators],
    ["rules", b.tables.nRules],
    ["udpif keys", b.udpif.ukeys.count()],
  ]);
}

/** compose_report: `name:count` pairs in name order, zeros omitted. */
export function formatMemoryUsage(usage: Map<string, number>): string {
  return [...usage].filter(([, n]) => n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, n]) => `${name}:${n}`).join(" ");
}

let current: () => Bridge | undefined = () => undefined;

/**
 * The reply: one line without a newline, as OVS's (ovs-appctl prints it
 * as it comes).
 */
function memoryShow(): string {
  const b = current();
  if (!b) throw new CommandError("no bridge is running");
  return formatMemoryUsage(memoryUsage(b));
}

/** Registers `memory/show` over whichever bridge `bridge()` returns; idempotent. */
export function registerMemoryShow(bridge: () => Bridge | undefined): void {
  current = bridge;
  registerCommand({ name: "memory/show", usage: "", minArgs: 0, maxArgs: 0, handler: memoryShow });
}
