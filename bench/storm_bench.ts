/**
 * Upcall storm, full size (issue 13, item 4): STORM_FACTOR (default 10)
 * times what the handlers' upcall queues hold of distinct new flows in
 * minimal (STORM_FRAME_BYTES, default 60) frames, at once through a stream
 * port (tests/reliability/_storm.ts). Prints the peak RSS, the lost
 * upcalls as dpctl/show and coverage count them, the slowest control
 * reply during the storm, and the installed flows checked (every 50th)
 * against fresh translations.
 *
 *     upcall_storm: F frames (10 x Q queued upcalls), lost L (coverage L), peak_rss_kb: K ...
 */
import { storm } from "../tests/reliability/_storm.ts";

const r = await storm({
  frameBytes: Number(Deno.env.get("STORM_FRAME_BYTES") ?? 60),
  factor: Number(Deno.env.get("STORM_FACTOR") ?? 10),
  checkAll: false,
  replyTimeoutMs: 60_000,
});
console.log(
  `upcall_storm: ${r.frames} frames of ${r.frameBytes} B (${r.frames / r.queueCapacity} x ` +
    `${r.queueCapacity} queued upcalls, ${r.handlers} handler(s)) in ${r.seconds.toFixed(1)} s, ` +
    `hit ${r.lookups.hit} missed ${r.lookups.missed} lost ${r.lookups.lost} ` +
    `(coverage datapath_drop_upcall_error ${r.covUpcallError}), ` +
    `peak_rss_kb: ${r.hwmAfterKb} (before ${r.hwmBeforeKb}), ` +
    `slowest_reply_ms: ${r.slowestReplyMs.toFixed(0)} of ${r.replies}, ` +
    `flows ${r.flowsInstalled}, checked ${r.flowsChecked}, violations ${r.violations.length}`,
);
if (r.lookups.lost === 0) {
  console.error("upcall_storm: no upcall was lost: the storm did not fill the queues");
}
if (r.violations.length) {
  console.error(r.violations.map((v) => `${v.kind}: ${v.flow} ${v.installed} / ${v.expected}`));
  Deno.exit(1);
}
