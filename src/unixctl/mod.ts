/**
 * The control channel as both ends see it on the wire: OVS's unixctl, a
 * Unix socket carrying JSON-RPC 1.0 (lib/jsonrpc.c, lib/unixctl.c's
 * client half), and where the socket is when none is named.
 *
 * - jsonrpc.ts: the framing (back-to-back JSON objects), requests, replies.
 * - client.ts: one request, one reply, as `ovs-appctl` sends them.
 * - rundir.ts: the run directory and the default socket path.
 * - version.ts: the release the `version` command names.
 *
 * This layer sits at the bottom beside src/lib and imports nothing: the
 * daemon's server (src/lib/unixctl_server.ts) builds on its framing, and a
 * client command (`udpif upcall/show`) loads only this folder and the CLI's
 * argument handling, so it starts as fast as the runtime allows.
 *
 * Thread-safety: plain per-connection objects and pure functions; no
 * shared state. Any thread may call any of it.
 */
export * from "./client.ts";
export * from "./jsonrpc.ts";
export * from "./rundir.ts";
export * from "./version.ts";
