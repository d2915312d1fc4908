/**
 * `udpif ofctl show|dump-ports|dump-ports-desc BRIDGE`: what ovs-ofctl
 * prints for the same requests over OpenFlow 1.0 (ofp-print.c's
 * switch-features, port-desc and port-stats replies), read from the
 * bridge's OpenFlow view (BridgeOpenFlow), patch ports included:
 *
 *     ofctl/show BRIDGE             features reply with every port, then
 *                                   the get-config reply of a fresh
 *                                   management connection
 *     ofctl/dump-ports BRIDGE [PORT]
 *     ofctl/dump-ports-desc BRIDGE
 *
 * Port descriptions are listed as ovs-ofctl sorts them (by number, LOCAL
 * last), port stats in the reply's order (LOCAL first, as OVS's came);
 * counters udpif does not keep (drops, errors) print as `?`, as OVS's
 * dummy netdevs leave them. Only OpenFlow 1.0's text is printed: another
 * `-O` version is refused (the real ovs-ofctl over BRIDGE.mgmt prints
 * the others).
 *
 * Thread-safety: main thread (unixctl commands).
 */
import { CommandError, registerCommand } from "../lib/mod.ts";
import { OFPP_LOCAL } from "../ofproto/mod.ts";
import type { PortDesc } from "../openflow/mod.ts";
import type { Bridge } from "./bridge.ts";
import { BridgeOpenFlow } from "./bridge_openflow.ts";

export const OFCTL_PORT_COMMANDS = ["ofctl/show", "ofctl/dump-ports", "ofctl/dump-ports-desc"];

const OFPPC_NAMES: Array<[number, string]> = [
  [1 << 0, "PORT_DOWN"],
  [1 << 1, "NO_STP"],
  [1 << 2, "NO_RECV"],
  [1 << 3, "NO_RECV_STP"],
  [1 << 4, "NO_FLOOD"],
  [1 << 5, "NO_FWD"],
  [1 << 6, "NO_PACKET_IN"],
];
/** The bits of switch.ts's CAPABILITIES10 and ACTIONS10, as ofp-print names them. */
const CAPABILITIES_LINE =
  "capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP";
const ACTIONS_LINE = "actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src " +
  "mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst";
/** A management (service) connection's config before it sets any (ofconn's defaults). */
const GET_CONFIG_LINE = "OFPT_GET_CONFIG_REPLY: frags=normal miss_send_len=0";

/** ofputil_format_port: LOCAL by name, other ports by number. */
function portName(portNo: number): string {
  return portNo === OFPP_LOCAL ? "LOCAL" : String(portNo);
}

/** ovs-ofctl's order: by number, LOCAL (0xfffe) last. */
function byNumber<T extends { portNo: number }>(ports: readonly T[]): T[] {
  return [...ports].sort((a, b) => a.portNo - b.portNo);
}

function hex(n: bigint, digits: number): string {
  return n.toString(16).padStart(digits, "0");
}

/** ofputil_phy_port_format for an OpenFlow 1.0 port (speeds 0, as OVS's dummies). */
export function formatPortDesc(p: PortDesc): string {
  const mac = hex(p.hwAddr, 12).match(/../g)!.join(":");
  const config = OFPPC_NAMES.filter(([bit]) => p.config & bit).map(([, n]) => n).join(" ");
  return ` ${portName(p.portNo)}(${p.name}): addr:${mac}\n` +
    `     config:     ${config || "0"}\n` +
    `     state:      ${p.linkDown ? "LINK_DOWN" : "0"}\n` +
    "     speed: 0 Mbps now, 0 Mbps max\n";
}

/** The port `text` names among `ports` (a number, LOCAL or a name); throws naming it. */
function portNumber(ports: PortDesc[], bridge: string, text: string): number {
  if (text === "LOCAL") return OFPP_LOCAL;
  const byName = ports.find((p) => p.name === text);
  if (byName) return byName.portNo;
  if (/^[0-9]+$/.test(text) && Number(text) < OFPP_LOCAL) return Number(text);
  throw new CommandError(`ovs-ofctl: ${bridge}: ${text}: unknown port`);
}

/** ofputil_format_port_stats for an OpenFlow 1.0 reply (no duration line). */
function formatPortStats(sw: BridgeOpenFlow, only: number | undefined): string {
  // In the reply's order: ovs-ofctl prints port stats unsorted.
  const stats = sw.portStats().filter((s) => only === undefined || s.portNo === only);
  let s = `OFPST_PORT reply: ${stats.length} ports\n`;
  for (const p of stats) {
    const pad = p.portNo < 10 ? " " : "";
    s += `  port ${pad}${portName(p.portNo)}: rx pkts=${p.rxPackets}, bytes=${p.rxBytes}, ` +
      "drop=?, errs=?, frame=?, over=?, crc=?\n" +
      `           tx pkts=${p.txPackets}, bytes=${p.txBytes}, drop=?, errs=?, coll=?\n`;
  }
  return s;
}

/** Registers the commands over the bridge `named` finds (throwing CommandError for none). */
export function registerOfctlPortCommands(named: (name: string) => Bridge): void {
  const command = (
    name: string,
    max: number,
    run: (sw: BridgeOpenFlow, bridge: string, args: string[]) => string,
  ) =>
    registerCommand({
      name,
      usage: undefined,
      minArgs: 1,
      maxArgs: max + 1,
      handler: (all) => {
        const m = /^--ofp-version=([1-6])$/.exec(all[0] ?? "");
        const args = m ? all.slice(1) : all;
        if (m && m[1] !== "1") {
          throw new CommandError(
            `${
              name.slice(6)
            }: udpif ofctl prints OpenFlow 1.0 only (ovs-ofctl over BRIDGE.mgmt prints the others)`,
          );
        }
        if (args.length < 1 || args.length > max) {
          throw new CommandError(`"${name}" command takes BRIDGE${max > 1 ? " [PORT]" : ""}`);
        }
        return run(new BridgeOpenFlow(named(args[0])), args[0], args.slice(1));
      },
    });
  command("ofctl/show", 1, (sw) => {
    const f = sw.features();
    return `OFPT_FEATURES_REPLY: dpid:${hex(f.datapathId, 16)}\n` +
      `n_tables:${f.nTables}, n_buffers:0\n${CAPABILITIES_LINE}\n${ACTIONS_LINE}\n` +
      byNumber(f.ports).map(formatPortDesc).join("") + `${GET_CONFIG_LINE}\n`;
  });
  command(
    "ofctl/dump-ports-desc",
    1,
    (sw) => "OFPST_PORT_DESC reply:\n" + byNumber(sw.ports()).map(formatPortDesc).join(""),
  );
  command("ofctl/dump-ports", 2, (sw, bridge, [port]) => {
    const only = port === undefined ? undefined : portNumber(sw.ports(), bridge, port);
    return formatPortStats(sw, only);
  });
}
