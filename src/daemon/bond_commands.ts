/**
 * The bond commands (ofproto/bond.c bond_unixctl_*): `bond/list`,
 * `bond/show [PORT]`, `bond/migrate PORT HASH MEMBER`, `bond/set-active-member PORT MEMBER`,
 * `bond/enable-member PORT MEMBER`, `bond/disable-member PORT MEMBER`
 * (and their older `-slave` names), `bond/hash MAC [VLAN] [BASIS]`, and
 * lib/lacp.c's `lacp/show [PORT]` and `lacp/show-stats [PORT]`, with
 * OVS's replies and errors.
 *
 * Thread-safety: main thread.
 */
import { CommandError, registerCommand, timeMsec } from "../lib/mod.ts";
import {
  BondCommandError,
  bondHashCommand,
  type BondRunner,
  lacpShowText,
  type LacpSnapshot,
  lacpStatsText,
} from "../ofproto/mod.ts";
import type { Bridge } from "./bridge.ts";

function answer(fn: () => string): string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BondCommandError) throw new CommandError(e.message);
    throw e;
  }
}

/** Registers the bond commands; `bridge` is the running bridge (or throws). */
export function registerBondCommands(bridge: () => Bridge): void {
  const bondOf = (name: string): BondRunner => bridge().bonds.bond(name);
  const changed = (b: Bridge, fn: () => string) =>
    answer(() => {
      const reply = fn();
      b.bonds.run();
      return reply;
    });
  registerCommand({
    name: "bond/list",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    handler: () =>
      "bond\ttype\trecircID\tmembers\n" +
      bridge().bonds.all().map((r) =>
        `${r.name}\t${r.bond.config.mode}\t${r.bond.recircId}\t${
          r.bond.config.members.map((m) => m.name).join(", ")
        }\n`
      ).join(""),
  });
  registerCommand({
    name: "bond/show",
    usage: "[port]",
    minArgs: 0,
    maxArgs: 1,
    handler: ([port]) => {
      const b = bridge();
      const bonds = port === undefined ? b.bonds.all() : [b.bonds.bond(port)];
      return bonds.map((r) => r.show(timeMsec())).join("");
    },
  });
  const member = (name: string, fn: (r: BondRunner, m: string) => string) => {
    registerCommand({
      name,
      usage: name.endsWith("slave") ? undefined : "port member",
      minArgs: 2,
      maxArgs: 2,
      handler: ([port, m]) => {
        const b = bridge();
        const r = bondOf(port);
        return changed(b, () => fn(r, m));
      },
    });
  };
  registerCommand({
    name: "bond/migrate",
    usage: "port hash member",
    minArgs: 3,
    maxArgs: 3,
    handler: ([port, hash, m]) => {
      const b = bridge();
      const r = bondOf(port);
      return changed(b, () => r.migrate(hash, m));
    },
  });
  for (const suffix of ["member", "slave"]) {
    member(`bond/set-active-${suffix}`, (r, m) => r.setActiveMember(m));
    member(`bond/enable-${suffix}`, (r, m) => r.enableMember(m, true));
    member(`bond/disable-${suffix}`, (r, m) => r.enableMember(m, false));
  }
  const lacpCommand = (name: string, text: (s: LacpSnapshot) => string) =>
    registerCommand({
      name,
      usage: "[port]",
      minArgs: 0,
      maxArgs: 1,
      handler: ([port]) => {
        const lacps = bridge().bonds.all().filter((r) =>
          r.bond.lacp && (port ?? r.name) === r.name
        );
        if (port !== undefined && !lacps.length) throw new CommandError("no such lacp object");
        return lacps.map((r) => text(r.bond.lacp!.snapshot())).join("");
      },
    });
  lacpCommand("lacp/show", lacpShowText);
  lacpCommand("lacp/show-stats", lacpStatsText);
  registerCommand({
    name: "bond/hash",
    usage: "mac [vlan] [basis]",
    minArgs: 1,
    maxArgs: 3,
    handler: ([mac, vlan, basis]) => answer(() => bondHashCommand(mac, vlan, basis)),
  });
}
