/**
 * The `ovs-appctl`, `ovs-ofctl` and `ovs-vsctl` that a case's shell lines
 * see during a udpif replay: small bash scripts, first in PATH, that send
 * the same command to the replay's udpif daemon. So one case file drives
 * both the real OVS and udpif:
 *
 *     ovs-appctl ARGS                              -> udpif appctl -t SOCK ARGS
 *     ovs-ofctl ARGS                               -> udpif ofctl -t SOCK ARGS
 *     ovs-vsctl set Open_vSwitch . other_config:K=V... -> ovs-appctl config/set K=V...
 *     ovs-vsctl set port P K=V...                  -> ovs-appctl port/set P K=V...
 *     ovs-vsctl add-bond br0 BOND M1 M2...         -> ovs-appctl bond/show BOND (silent)
 *     ovs-vsctl add-port BR P [-- set interface P type=dummy ofport_request=N]
 *                                                  -> ovs-appctl port/add BR P[:N]
 *     ovs-vsctl del-port [BR] P                    -> ovs-appctl port/del [BR] P
 *
 * (a case's `--pre "ovs-vsctl add-bond ..."` is made a `--port ...,type=bond`
 * at start by the replay, `bondPortsOf`; the wrapper only checks that it
 * exists, and prints nothing, as ovs-vsctl does)
 *
 * (config/set and port/set are what `udpif set-config` and `set-port`
 * send; through ovs-appctl they take the relay's fast path.)
 *
 * In wire mode (`CONFORMANCE_OFCTL=wire`) `ovs-ofctl` is the real one
 * instead, run with OVS_RUNDIR at the replay's run directory, so that
 * `ovs-ofctl CMD br0` speaks OpenFlow to udpif's `br0.mgmt` as it would
 * to ovs-vswitchd's.
 *
 * Options of the OVS tools that only make sense for OVS (`--timeout`,
 * `-t TARGET`, `--no-wait`) are dropped. Any other ovs-vsctl command is
 * refused with exit status 2, naming what it could not map.
 */

import { RELAY_PORT_FILE } from "./appctl_relay.ts";
import type { CaseOptions } from "./case.ts";

/** Single-quotes a string for bash. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A command's time limit, so that a hung daemon cannot hang the replay. */
const LIMIT = "timeout -k 5 30";
/** How long the relay's wrapper waits for its reply (the relay's own call gives up at 30 s). */
const RELAY_WAIT_S = 40;

/**
 * With `relayDir`, a plain `ovs-appctl COMMAND ARGS...` goes through the
 * runner's AppctlRelay there when it serves (see appctl_relay.ts), with
 * bash builtins only; anything else runs `udpif appctl`.
 */
export function appctlWrapper(udpif: string, socket: string, relayDir?: string): string {
  const relay = relayDir === undefined ? "" : `
portfile=${shellQuote(`${relayDir}/${RELAY_PORT_FILE}`)}
if [ -r "$portfile" ] && [ $# -gt 0 ] && [ "\${1#-}" = "$1" ] && IFS= read -r port <"$portfile"; then
    req="[" sep=""
    for a in "$@"; do
        a=\${a//\\\\/\\\\\\\\}; a=\${a//\\"/\\\\\\"}
        a=\${a//$'\\n'/\\\\n}; a=\${a//$'\\t'/\\\\t}; a=\${a//$'\\r'/\\\\r}
        req+="$sep\\"$a\\"" sep=","
    done
    # A runner that is gone costs the time limit, not a hang.
    if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then
        echo "ovs-appctl (udpif replay): the replay runner does not answer" >&2
        exit 1
    fi
    printf '%s]\\n' "$req" >&3
    if ! { IFS= read -t ${RELAY_WAIT_S} -r status && IFS= read -t ${RELAY_WAIT_S} -r -d '' text; } <&3; then
        echo "ovs-appctl (udpif replay): no reply from the replay runner" >&2
        exit 1
    fi
    if [ "$status" = 0 ]; then printf '%s' "$text"; else printf '%s' "$text" >&2; fi
    # ovs-appctl's own line after an error reply (ovs_fatal in utilities/ovs-appctl.c).
    if [ "$status" = 2 ]; then echo "ovs-appctl: $target: server returned an error" >&2; fi
    exit "$status"
fi`;
  return `#!/usr/bin/env bash
# ovs-appctl, mapped onto udpif for a conformance replay.
target=ovs-vswitchd
while [ $# -gt 0 ]; do
    case "$1" in
        --target=*) target=\${1#--target=}; shift ;;
        -t|--target) target=\$2; shift 2 ;;
        --timeout=*|-T?*) shift ;;
        -T|--timeout) shift 2 ;;
        *) break ;;
    esac
done${relay}
exec ${LIMIT} ${shellQuote(udpif)} appctl -t ${shellQuote(socket)} "$@"
`;
}

export function ofctlWrapper(udpif: string, socket: string): string {
  return `#!/usr/bin/env bash
# ovs-ofctl, mapped onto udpif for a conformance replay.
args=()
for a in "$@"; do
    case "$a" in
        --timeout=*) ;;
        *) args+=("$a") ;;
    esac
done
exec ${LIMIT} ${shellQuote(udpif)} ofctl -t ${shellQuote(socket)} "\${args[@]}"
`;
}

/** How a replay's `ovs-ofctl` reaches udpif: `udpif ofctl` over unixctl, or OpenFlow. */
export type OfctlMode = "unixctl" | "wire";

/** The real ovs-ofctl run against the management socket in `rundir`. */
export function ofctlWireWrapper(ovsOfctl: string, rundir: string): string {
  return `#!/usr/bin/env bash
# The real ovs-ofctl, speaking OpenFlow to udpif's RUNDIR/BRIDGE.mgmt.
export OVS_RUNDIR=${shellQuote(rundir)}
exec ${LIMIT} ${shellQuote(ovsOfctl)} "$@"
`;
}

export function vsctlWrapper(): string {
  return `#!/usr/bin/env bash
# ovs-vsctl, mapped onto udpif for a conformance replay: only the settings
# that udpif has (other_config and port VLAN settings), and adding or
# deleting a dummy port.
unsupported() {
    echo "ovs-vsctl (udpif replay): cannot map onto udpif: $*" >&2
    exit 2
}
all="$*"
while [ $# -gt 0 ]; do
    case "$1" in
        --no-wait|--timeout=*|-t?*) shift ;;
        -t|--timeout) shift 2 ;;
        *) break ;;
    esac
done
if [ "\${1:-}" = add-bond ] && [ $# -ge 5 ]; then
    ovs-appctl bond/show "$3" >/dev/null || unsupported "$all"
    exit 0
fi
# add-port BR P [-- set interface P type=dummy [ofport_request=N]]: port/add BR P[:N].
if [ "\${1:-}" = add-port ] && [ $# -ge 3 ]; then
    br=$2 port=$3 ofport=""
    shift 3
    if [ $# -gt 0 ]; then
        [ "$1" = -- ] && [ "\${2:-}" = set ] && [ "\${3:-}" = interface ] && [ "\${4:-}" = "$port" ] ||
            unsupported "$all"
        shift 4
        for a in "$@"; do
            case "$a" in
                type=dummy) ;;
                ofport_request=*) ofport=":\${a#ofport_request=}" ;;
                *) unsupported "$all" ;;
            esac
        done
    fi
    exec ovs-appctl port/add "$br" "$port$ofport"
fi
# del-port [BR] P: port/del [BR] P.
if [ "\${1:-}" = del-port ] && [ $# -ge 2 ] && [ $# -le 3 ]; then
    shift
    exec ovs-appctl port/del "$@"
fi
[ "\${1:-}" = set ] && [ $# -ge 4 ] || unsupported "$all"
case "$2" in
    Open_vSwitch|open_vswitch)
        [ "$3" = . ] || unsupported "$all"
        shift 3
        kv=()
        for a in "$@"; do
            case "$a" in
                other_config:*=*|other-config:*=*) kv+=("\${a#*:}") ;;
                *) unsupported "$all" ;;
            esac
        done
        exec ovs-appctl config/set "\${kv[@]}" ;;
    port|Port)
        port=$3
        shift 3
        exec ovs-appctl port/set "$port" "$@" ;;
    *) unsupported "$all" ;;
esac
`;
}

/**
 * The other_config settings of `--vsctl` words (ovs-vsctl arguments applied
 * before the daemon starts), as `KEY=VALUE` for `udpif start --other-config`.
 */
export function vsctlToOtherConfig(words: string[]): string[] {
  const bad = () => new Error(`--vsctl '${words.join(" ")}' cannot be mapped onto udpif start`);
  if (words[0] !== "set" || words.length < 4) throw bad();
  if (words[1] !== "Open_vSwitch" && words[1] !== "open_vswitch") throw bad();
  if (words[2] !== ".") throw bad();
  return words.slice(3).map((w) => {
    const m = /^other[_-]config:([^=]+=.*)$/.exec(w);
    if (!m) throw bad();
    return m[1];
  });
}

/**
 * The `--port` values of the bonds a case's `--pre` commands add with
 * `ovs-vsctl add-bond br0 BOND M1 M2... [COLUMN=VALUE...] [-- set
 * interface M type=dummy ofport_request=N [options:pstream|stream=...]
 * [other_config:lacp-port-id|lacp-port-priority|lacp-aggregation-key=V]]...`:
 * udpif makes bonds at start, so the replay gives them to `udpif start`
 * (each member with settings as a `--port` of its own). `$OVS_RUNDIR`
 * in a socket path is `rundir`.
 */
export function bondPortsOf(pre: readonly string[], rundir = ""): string[] {
  const ports: string[] = [];
  for (const cmd of pre) {
    const m = /^ovs-vsctl\s+(?:--no-wait\s+)?add-bond\s+br0\s+(.*)$/.exec(cmd.trim());
    if (!m) continue;
    const [head, ...sets] = m[1].split(/\s+--\s+/);
    const [bond, ...rest] = head.split(/\s+/);
    const members = rest.filter((w) => !w.includes("="));
    const columns = rest.filter((w) => w.includes("="));
    const ofports = new Map<string, string>();
    const options = new Map<string, string[]>();
    const ifaceConfig: string[] = [];
    for (const set of sets) {
      const s = /^set\s+interface\s+(\S+)\s+(.*)$/i.exec(set);
      if (!s) throw new Error(`cannot map onto udpif start: ${set}`);
      for (const kv of s[2].split(/\s+/)) {
        const opt = /^options:(pstream|stream)=(.*)$/.exec(kv);
        const oc = /^other_config:(lacp-port-id|lacp-port-priority|lacp-aggregation-key)=(.*)$/
          .exec(kv);
        if (kv.startsWith("ofport_request=")) ofports.set(s[1], kv.slice("ofport_request=".length));
        else if (oc) ifaceConfig.push(`iface_other_config:${s[1]}:${oc[1]}=${oc[2]}`);
        else if (opt) {
          const value = opt[2].replaceAll("$OVS_RUNDIR", rundir);
          options.set(s[1], [...options.get(s[1]) ?? [], `${opt[1]}=${value}`]);
        } else if (kv !== "type=dummy") throw new Error(`cannot map onto udpif start: ${kv}`);
      }
    }
    const named = (n: string) => ofports.has(n) ? `${n}:${ofports.get(n)}` : n;
    for (const [n, opts] of options) ports.push([named(n), ...opts].join(","));
    const spec = members.map((n) => options.has(n) ? n : named(n)).join("+");
    ports.push(
      [`${bond}`, "type=bond", `members=${spec}`, ...columns, ...ifaceConfig].join(","),
    );
  }
  return ports;
}

/** The real ovs-ofctl that wire mode runs. */
export const OVS_OFCTL = "/usr/bin/ovs-ofctl";

/**
 * Writes the three wrappers into `binDir` (which must exist); with
 * `relayDir`, ovs-appctl uses the relay served there. With `wire`,
 * ovs-ofctl is the real one against the management sockets in
 * `wire.rundir`.
 */
export async function writeWrappers(
  binDir: string,
  udpif: string,
  socket: string,
  relayDir?: string,
  wire?: { rundir: string; ovsOfctl?: string },
): Promise<void> {
  const ofctl = wire === undefined
    ? ofctlWrapper(udpif, socket)
    : ofctlWireWrapper(wire.ovsOfctl ?? OVS_OFCTL, wire.rundir);
  const scripts: Array<[string, string]> = [
    ["ovs-appctl", appctlWrapper(udpif, socket, relayDir)],
    ["ovs-ofctl", ofctl],
    ["ovs-vsctl", vsctlWrapper()],
  ];
  for (const [name, text] of scripts) {
    await Deno.writeTextFile(`${binDir}/${name}`, text, { mode: 0o755 });
  }
}

/**
 * The `udpif start` arguments of `--patch-bridge BR:M`, as the oracle
 * script builds it with ovs-vsctl: bridges br0 and BR, BR's dummy ports
 * p(N+1)..p(N+M) numbered 1..M, and the patch ports patch-BR on br0
 * (N+1) and patch-br0 on BR (M+1), each the other's peer.
 */
export function patchBridgeArgs(o: CaseOptions): string[] {
  const pb = o.patchBridge;
  if (pb === null) return [];
  const br = pb.name;
  const argv = ["--bridge", "br0", "--bridge", br];
  for (let i = 1; i <= pb.ports; i++) argv.push("--port", `p${o.ports + i}:${i},bridge=${br}`);
  argv.push("--port", `patch-${br}:${o.ports + 1},type=patch,peer=patch-br0`);
  argv.push("--port", `patch-br0:${pb.ports + 1},bridge=${br},type=patch,peer=patch-${br}`);
  return argv;
}
