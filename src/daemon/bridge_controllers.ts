/**
 * A bridge's controllers and fail mode together (the part of OVS's
 * bridge_configure_remotes and connmgr_set_fail_mode / update_fail_open
 * that udpif needs): the connection manager's controller targets, the
 * fail mode (unset means standalone), and fail-open, which exists while
 * the bridge is standalone and has controllers. `run` is the main loop's
 * once-a-second step.
 *
 * Thread-safety: main thread.
 */
import { timeMsec } from "../lib/mod.ts";
import { newFlowMod, newMatch, OFPP_NORMAL } from "../ofproto/mod.ts";
import type { Bridge } from "./bridge.ts";
import type { Connmgr } from "./connmgr.ts";
import type { ControllerSettings } from "./controller_commands.ts";
import { FAIL_OPEN_PRIORITY, FailMode, FailOpen, type FailOpenHost } from "./fail_open.ts";

export class BridgeControllers implements ControllerSettings, FailOpenHost {
  failMode: FailMode | undefined;
  #failOpen: FailOpen | undefined;

  constructor(
    private readonly bridge: Bridge,
    readonly connmgr: Connmgr,
    failMode?: FailMode,
  ) {
    this.failMode = failMode;
  }

  get bridgeName(): string {
    return this.bridge.name;
  }

  /** Whether fail-open has taken over (its hidden NORMAL rule is in). */
  get failedOpen(): boolean {
    return this.#failOpen?.active ?? false;
  }

  /** Replaces the controllers (`--controller`, set-controller); throws naming a bad target. */
  async setControllers(targets: string[]): Promise<void> {
    await this.connmgr.setControllers(targets);
    this.#updateFailOpen();
  }

  /** connmgr_set_fail_mode: a change without controllers flushes the flows, as OVS. */
  setFailMode(mode: FailMode | undefined): void {
    const before = this.failMode ?? "standalone";
    this.failMode = mode;
    if ((mode ?? "standalone") === before) return;
    this.#updateFailOpen();
    if (!this.hasControllers()) this.flushFlows();
  }

  /** update_fail_open: fail-open exists while standalone with controllers. */
  #updateFailOpen(): void {
    const wanted = this.hasControllers() && (this.failMode ?? "standalone") === "standalone";
    if (wanted && !this.#failOpen) this.#failOpen = new FailOpen(this);
    else if (!wanted && this.#failOpen) {
      this.#failOpen.stop();
      this.#failOpen = undefined;
    }
  }

  run(): void {
    this.#failOpen?.run();
  }

  hasControllers(): boolean {
    return this.connmgr.controllers().length > 0;
  }

  failureDurationS(): number {
    return this.connmgr.failureDurationS();
  }

  maxProbeIntervalS(): number {
    return this.connmgr.maxProbeIntervalS();
  }

  anyControllerConnected(): boolean {
    return this.connmgr.anyControllerConnected();
  }

  flushFlows(): void {
    const b = this.bridge;
    b.tablesChanged(
      b.tables.flowMods([newFlowMod("delete", false, newMatch(), 0)], false, timeMsec()),
    );
  }

  setNormalFlow(present: boolean): void {
    const fm = newFlowMod(present ? "add" : "delete", !present, newMatch(), FAIL_OPEN_PRIORITY);
    fm.tableId = 0;
    if (present) fm.actions = [{ type: "output", port: OFPP_NORMAL }];
    const b = this.bridge;
    b.tablesChanged(b.tables.flowMods([fm], !present, timeMsec()));
  }
}
