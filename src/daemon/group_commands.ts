/**
 * The group commands of `udpif ofctl` (ovs-ofctl.c's ofctl_add_group,
 * ofctl_add_groups, ofctl_mod_group, ofctl_del_groups,
 * ofctl_insert_bucket, ofctl_remove_bucket, ofctl_dump_group_desc,
 * ofctl_dump_group_stats and ofctl_dump_group_features), as hidden `ofctl/...` control commands taking
 * the group text. Errors are worded as ovs-ofctl prints them: a parse
 * error as `ovs-ofctl: MESSAGE`, a refused group_mod as the OFPT_ERROR
 * and the request it echoes. A file with one bad line changes nothing.
 *
 * Thread-safety: main thread.
 */
import { CommandError, registerCommand, timeMsec } from "../lib/mod.ts";
import {
  dumpGroupFeatures,
  dumpGroups,
  dumpGroupStats,
  formatGroupModError,
  type GroupMod,
  type GroupModCommand,
  GroupModError,
  OfctlError,
  OFPG_ALL,
  parseGroupMod,
} from "../ofproto/mod.ts";
import type { Bridge } from "./bridge.ts";

/** Splits off a leading `--ofp-version=V` (1 = OpenFlow 1.0 when absent). */
function ofpVersion(args: string[]): { version: number; rest: string[] } {
  const m = /^--ofp-version=([1-6])$/.exec(args[0] ?? "");
  return m ? { version: Number(m[1]), rest: args.slice(1) } : { version: 1, rest: args };
}

function parse(text: string, command: GroupModCommand | "file", version: number): GroupMod {
  try {
    return parseGroupMod(text, command, version);
  } catch (e) {
    if (e instanceof OfctlError) throw new CommandError(`ovs-ofctl: ${e.message}`);
    throw e;
  }
}

/**
 * Sends group_mods as ovs-ofctl does, one change for the lot: the first
 * refused one stops the rest, those before it stay.
 */
function apply(b: Bridge, mods: GroupMod[], version: number): string {
  try {
    b.tablesChanged(b.tables.groupMods(mods, timeMsec()));
  } catch (e) {
    if (!(e instanceof GroupModError)) throw e;
    b.tablesChanged(e.applied);
    throw new CommandError(formatGroupModError(e.gm ?? mods[0], e.error, version));
  }
  return "";
}

/** parse_ofp_group_mod_file: every line parsed first; `SOURCE:LINE: error` names a bad one. */
function parseFile(text: string, source: string, version: number): GroupMod[] {
  const mods: GroupMod[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    try {
      mods.push(parseGroupMod(line, "file", version));
    } catch (e) {
      if (!(e instanceof OfctlError)) throw e;
      throw new CommandError(`ovs-ofctl: ${source}:${i + 1}: ${e.message}`);
    }
  });
  return mods;
}

/** Registers the group commands; `named` finds the bridge a command names. */
export function registerGroupCommands(named: (name: string) => Bridge): void {
  const of = (
    name: string,
    min: number,
    max: number,
    fn: (version: number, args: string[]) => string,
  ) =>
    registerCommand({
      name,
      usage: undefined,
      minArgs: min,
      maxArgs: max + 1,
      handler: (all) => {
        const { version, rest } = ofpVersion(all);
        if (rest.length < min) {
          throw new CommandError(`"${name}" command requires at least ${min} arguments`);
        }
        return fn(version, rest);
      },
    });
  const single = (command: GroupModCommand) => (version: number, [br, text]: string[]) =>
    apply(named(br), [parse(text ?? "", command, version)], version);

  of("ofctl/add-group", 2, 2, single("add"));
  of("ofctl/mod-group", 2, 2, single("modify"));
  of("ofctl/del-groups", 1, 2, single("delete"));
  of("ofctl/insert-buckets", 2, 2, single("insert_bucket"));
  of("ofctl/remove-buckets", 2, 2, single("remove_bucket"));
  // add-groups BRIDGE SOURCE TEXT: SOURCE names the file in errors.
  of("ofctl/add-groups", 3, 3, (version, [br, source, text]) => {
    const b = named(br);
    return apply(b, parseFile(text, source, version), version);
  });
  of("ofctl/dump-groups", 1, 2, (version, [br, id]) => {
    const b = named(br);
    // ofputil_group_from_string: a bad id asks for every group.
    const n = id === undefined ? OFPG_ALL : /^\d+$/.test(id) ? Number(id) : OFPG_ALL;
    return dumpGroups(b.tables, version, n > 0xffffffff ? OFPG_ALL : n);
  });
  of("ofctl/dump-group-features", 1, 1, (version, [br]) => {
    named(br);
    return dumpGroupFeatures(version);
  });
  of("ofctl/dump-group-stats", 1, 2, (version, [br, text]) => {
    const b = named(br);
    const gm = parse(text ?? "", "delete", version);
    b.drainStats();
    return dumpGroupStats(b.tables, version, gm.id, timeMsec());
  });
}
