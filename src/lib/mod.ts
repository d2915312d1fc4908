/**
 * Domain-free building blocks that every layer shares.
 *
 * - clock.ts: the one clock (time/stop, time/warp) in shared memory.
 * - coverage*.ts: OVS's coverage counters, incremented from any worker.
 * - log*.ts: vlog over @logtape/logtape, levels shared with workers.
 * - seq.ts, barrier.ts: OVS's seq and a reusable barrier over Atomics
 *   (whose seats a dead thread's stand-in can keep).
 * - lock_owner.ts: spin locks that store their holder, so a dead
 *   worker's locks can be found and released.
 * - ring.ts: single-producer/single-consumer record rings in shared memory.
 * - hash.ts: OVS's murmur-style hashes and the 128-bit UFID hash;
 *   jhash.ts: lookup3 (`jhash_bytes`), for multipath and bundle.
 * - unixctl.ts, unixctl_server.ts: the command registry and the control
 *   socket server (the wire protocol and the client are src/unixctl).
 *
 * Thread-safety: each module's shared state lives in a SharedArrayBuffer
 * that the main thread creates and hands to workers (`attach*`); words are
 * published with Atomics, and each file names its writers. Nothing here
 * knows about flows or packets.
 */
export * from "./barrier.ts";
export * from "./clock.ts";
export * from "./coverage.ts";
export * from "./coverage_order.ts";
export * from "./coverage_report.ts";
export * from "./hash.ts";
export * from "./jhash.ts";
export * from "./log.ts";
export * from "./lock_owner.ts";
export * from "./log_control.ts";
export * from "./ring.ts";
export * from "./seq.ts";
export * from "./unixctl.ts";
export * from "./unixctl_server.ts";
