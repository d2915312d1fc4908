/**
 * The switch process: what `udpif start` runs.
 *
 * `Daemon` brings up the bridges from the command-line options, serves the
 * control socket (OVS's unixctl protocol, so `ovs-appctl` works too) and
 * stops cleanly on `exit`, SIGINT or SIGTERM. `Backer` (backer.ts, OVS's
 * dpif_backer) owns what every bridge shares: the datapath, the udpif
 * and its translation (`backer_xlate.ts`: one `BridgeXlate` per bridge
 * id, the bridge found from the datapath in_port), the recirculation id
 * and rule stats pools, other_config; when it opens the datapath,
 * `backer_support.ts` probes what that datapath supports (ofproto-dpif's
 * check_support, shown by `dpif/show-dp-features`). `Bridge` (bridge.ts)
 * is one OpenFlow switch on it: ports, OpenFlow tables, MAC table;
 * `patch_port.ts` pairs patch ports, which translation follows into the
 * peer bridge (src/xlate/patch.ts), and gives their port desc and
 * mod-port; `bridge_start_options.ts` reads the per-bridge start options
 * (`--flows|--listen|--controller|--fail-mode VALUE[,bridge=NAME]`) and
 * opens each bridge's OpenFlow endpoints; `ofctl_ports.ts` prints `udpif
 * ofctl show|dump-ports|dump-ports-desc`. `OtherConfig`
 * holds the `other_config` settings (`config/set`), `port_config.ts` the
 * per-port VLAN settings (`port/set`), `port_link.ts` the watch over the
 * interfaces behind system and tap ports (a vanished one is reported,
 * its fd closed, and re-opened when it is back; its carrier decides
 * bond membership and fast_failover liveness; `port/show`),
 * `dpctl_commands.ts` the datapath's `dpctl/...` and `dpif-netdev/...`
 * commands, `core_commands.ts` the daemon's
 * own commands (`version`, `list-commands`, `time/*`, `coverage/*`,
 * `vlog/*`), `fault_commands.ts` the fault injection commands that only
 * `--enable-fault-injection` registers (`fault/kill-worker`,
 * `fault/show-workers`), `memory_show.ts` `memory/show` (the counts memory
 * grows with, recirculation ids included), `detrace.ts` `ofproto/detrace`
 * (the rules behind a datapath flow, from its ukey's xlate cache), and
 * `udpif_keys.ts` the other_config keys handed to the udpif (`ovs-compat`
 * among them).
 * OpenFlow connections (OVS's connmgr) live in `connmgr.ts`
 * (the BRIDGE.mgmt socket, `--listen` ptcp/punix listeners, controllers,
 * framing, asynchronous messages), `rconn.ts` (an active controller kept
 * connected: backoff, inactivity probe), `of_target.ts` (the
 * ptcp/punix/tcp/unix target names parsed), `ofconn.ts` (one connection:
 * hello, requests answered through the `OfSwitch` interface, which
 * `of_switch.ts` documents operation by operation),
 * `ofconn_async.ts` (async config: which packet-ins and flow-removeds a
 * connection gets), `packet_in_queue.ts` (the handlers' controller
 * upcalls, in shared memory, on their way to the connections),
 * `fail_open.ts` and `bridge_controllers.ts` (fail-mode and fail-open),
 * `controller_commands.ts` (`bridge/set-controller` and friends),
 * `role_election.ts` (controller roles) and
 * `bridge_openflow.ts` (the bridge as an `OfSwitch`: the same tables,
 * publication and revalidation as `udpif ofctl`, packet-outs translated
 * and executed, port counters). `rundir.ts` makes the run directory
 * (src/unixctl says where it is); `detach.ts` runs the daemon in the
 * background for `--detach`;
 * `demo.ts` is the in-process switch `udpif demo` narrates.
 * `bridge_learn.ts` and `learn_queue.ts` carry what learn and fin_timeout
 * actions do in any worker's translation to the master tables.
 *
 * Thread-safety: everything here runs on the main thread, which owns the
 * configuration, the master copy of the OpenFlow tables, the control
 * socket and the OpenFlow connections, and never touches packets on the
 * fast path (a packet-out is handed to the datapath as an execute).
 * Workers (PMDs, handlers, revalidators) are started by the layers below
 * and get what they share with the main thread as SharedArrayBuffers: the
 * clock (`clockBuffer`), coverage counters (`coverageBuffer`), log levels
 * (`logBuffer`) and their own layer's tables and rings; handlers also get
 * the packet-in queue (packet_in_queue.ts), which they produce into under
 * its lock and the main thread drains. The control commands only read or
 * publish through those; nothing a command does blocks a worker. Two
 * more queues run the same way, workers producing and the main thread
 * draining: rule statistics (rule_stats.ts) and learned flows
 * (learn_queue.ts), each behind a spin lock held for one record's stores.
 */
export { Daemon, DaemonConfigError, type DaemonOptions } from "./daemon.ts";
export { Bridge, type BridgePort, type DatapathType, type PortModAction } from "./bridge.ts";
export { OTHER_CONFIG_KEYS, OtherConfig, OtherConfigError } from "./other_config.ts";
export { parsePortSpecs, type PortSpec, PortSpecError } from "./port_spec.ts";
export { type PortVlanConfig, VLAN_MODES, type VlanMode } from "./port_config.ts";
export { onClockWarp, registerCoreCommands } from "./core_commands.ts";
export { ensureRundir } from "./rundir.ts";
export { announceReady, DETACHED_ENV, DetachError, spawnDetached } from "./detach.ts";
export { DEMO_RULES, type DemoStats, DemoSwitch } from "./demo.ts";
