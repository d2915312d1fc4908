/**
 * Fail-open (OVS's ofproto/fail-open.c): a bridge in fail-mode
 * "standalone" with controllers, none of which it could reach for three
 * inactivity-probe intervals (one to notice, one for the probe's answer,
 * one to reconnect), flushes its flows and forwards everything through
 * one hidden rule, `priority=0xf0f0f0 actions=NORMAL` (above every
 * OpenFlow priority, so invisible to dump-flows and untouchable by
 * controllers). Once a controller is connected again the rule goes and
 * the controller's rules take over. OVS waits for the controller to be
 * "admitted" (to have sent more than hello and echo), sending it a bogus
 * RARP packet-in every 2 s meanwhile; udpif has no admission control, so
 * a connected controller is admitted and recovery is immediate. In
 * fail-mode "secure", nothing of this: without a controller the flows stay
 * as they are.
 *
 * Thread-safety: main thread (driven by the daemon's 1 s tick).
 */
import { getLogger } from "../lib/mod.ts";

const log = getLogger("fail_open");

export type FailMode = "standalone" | "secure";

/** The rule's priority: above OpenFlow's 16 bits, so hidden. */
export const FAIL_OPEN_PRIORITY = 0xf0f0f0;

/** Checks a fail mode; throws naming the bad value. */
export function parseFailMode(text: string): FailMode {
  if (text === "standalone" || text === "secure") return text;
  throw new Error(`"${text}": fail mode must be standalone or secure`);
}

/** What fail-open needs from the bridge and its connection manager. */
export interface FailOpenHost {
  /** Whether any controller is configured (connmgr_has_controllers). */
  hasControllers(): boolean;
  /** Seconds since some controller was last connected; 0 while one is (connmgr_failure_duration). */
  failureDurationS(): number;
  /** The largest inactivity probe interval of the controllers, in seconds. */
  maxProbeIntervalS(): number;
  anyControllerConnected(): boolean;
  /** Deletes every OpenFlow rule (ofproto_flush_flows); the datapath follows by revalidation. */
  flushFlows(): void;
  /** Adds or deletes the hidden `priority=FAIL_OPEN_PRIORITY actions=NORMAL` rule. */
  setNormalFlow(present: boolean): void;
}

export class FailOpen {
  /** Seconds disconnected when fail-open was entered or last logged; 0: not failed open. */
  #lastDisconnSecs = 0;

  constructor(private readonly host: FailOpenHost) {}

  get active(): boolean {
    return this.#lastDisconnSecs !== 0;
  }

  /** trigger_duration: three probe intervals, or never without controllers. */
  #triggerS(): number {
    return this.host.hasControllers() ? this.host.maxProbeIntervalS() * 3 : Infinity;
  }

  /** fail_open_run plus fail_open_maybe_recover, once per main-loop tick. */
  run(): void {
    const disconnS = this.host.failureDurationS();
    if (disconnS > 0 && disconnS >= this.#triggerS()) {
      if (!this.active) {
        log.warn(
          `Could not connect to controller (or switch failed controller's post-connection ` +
            `admission control policy) for ${disconnS} seconds, failing open`,
        );
        this.#lastDisconnSecs = disconnS;
        this.host.flushFlows();
        this.host.setNormalFlow(true);
      } else if (disconnS > this.#lastDisconnSecs + 60) {
        log.info(`Still in fail-open mode after ${disconnS} seconds disconnected from controller`);
        this.#lastDisconnSecs = disconnS;
      }
    }
    if (this.active && this.host.anyControllerConnected()) this.#recover();
  }

  #recover(): void {
    log.warn("No longer in fail-open mode");
    this.#lastDisconnSecs = 0;
    this.host.setNormalFlow(false);
  }

  /** fail_open_destroy: leaving standalone mode or losing the controllers ends fail-open. */
  stop(): void {
    if (this.active) this.#recover();
  }
}
