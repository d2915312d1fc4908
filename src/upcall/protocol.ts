/**
 * Messages between the main thread and udpif's workers. Everything hot
 * goes through shared memory; messages only start and stop workers and
 * carry translation-state updates (OpenFlow tables, bridge config).
 */
import type { DpifNetdev } from "../dpif/mod.ts";
import type { XcacheDescription } from "./ports.ts";

/** Joins a worker to a udpif's shared memory, once per worker. */
export interface UdpifWorkerInit {
  type: "init";
  dpType: string;
  datapath: DpifNetdev["buffers"];
  /** The datapath client to take over (a dead worker's), else a new one. */
  dpifClient?: number;
  /** This worker's lock owner id (lock_owner.ts). */
  lockOwner: number;
  /** The seats' fence words (worker_seats.ts). */
  seats: SharedArrayBuffer;
  shared: SharedArrayBuffer;
  ukeys: SharedArrayBuffer;
  dumpCursor: SharedArrayBuffer;
  clock: SharedArrayBuffer;
  coverage: SharedArrayBuffer;
  log: SharedArrayBuffer;
  /** Module exporting `createUdpifXlate(init)` (see ports.ts CreateUdpifXlate). */
  xlateModule: string;
  xlateInit: unknown;
  /** The last update seq `xlateInit` already includes. */
  xlateSeq: number;
}

/** Runs the worker as one thread until the udpif stops its threads. */
export interface UdpifWorkerRun {
  type: "run";
  role: "handler" | "revalidator";
  /** Handler id, or revalidator index (0 = leader). */
  index: number;
  barrier: SharedArrayBuffer;
  pauseBarrier: SharedArrayBuffer;
}

/** A translation-state update, applied in order; `seq` matches UdpifShared.updateSeq. */
export interface UdpifWorkerUpdate {
  type: "xlate-update";
  seq: number;
  data: unknown;
}

/**
 * Asks a revalidator worker for the xlate cache it holds for ukey `slot`
 * of generation `gen` (ofproto/detrace); answered by an "xcache" reply
 * with the same `id`.
 */
export interface UdpifWorkerXcacheQuery {
  type: "xcache-query";
  id: number;
  slot: number;
  gen: number;
}

export type UdpifWorkerMessage =
  | UdpifWorkerInit
  | UdpifWorkerRun
  | UdpifWorkerUpdate
  | UdpifWorkerXcacheQuery;

/** Worker -> main. */
export type UdpifWorkerReply =
  | { type: "ready"; dpifClient: number }
  | { type: "xcache"; id: number; description: XcacheDescription | null }
  | { type: "exited"; role: string; index: number }
  | { type: "error"; message: string };
