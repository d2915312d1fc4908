/**
 * `udpif demo`: the main job on a built-in example, narrated. A switch
 * runs in this process (no daemon, no files): rules go in, thousands of
 * distinct flows come through, and the demo shows the upcalls and
 * megaflows being installed, `upcall/show` as it evolves, a rule change
 * revalidated in place, idle flows expiring, and the flow limit reacting
 * to a burst, then sums up.
 */
import type { Command } from "commander";
import type { DemoStats, DemoSwitch } from "../daemon/mod.ts";
import { printOut } from "./client.ts";
import type { Subcommand } from "./subcommand.ts";
import { importOnDemand } from "./on_demand.ts";
import { UsageError } from "./errors.ts";

const isTty = Deno.stdout.isTerminal();

function statusLine(label: string, done: number, total: number, s: DemoStats): string {
  const width = 24;
  const filled = Math.round((done / total) * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  return `  ${label} [${bar}] ${String(done).padStart(5)}/${total}  upcalls ${
    String(s.missed).padStart(5)
  }  hits ${String(s.hit).padStart(5)}  megaflows ${String(s.flows).padStart(5)}`;
}

/** One progress line, rewritten in place on a terminal, printed at the end otherwise. */
function progress(line: string, final: boolean): void {
  if (isTty) printOut(`\r\x1b[K${line}${final ? "\n" : ""}`);
  else if (final) printOut(line + "\n");
}

function heading(n: number, title: string): void {
  printOut(`\n== ${n}. ${title}\n`);
}

function indent(text: string): string {
  return text.trimEnd().split("\n").map((l) => `    ${l}`).join("\n") + "\n";
}

async function traffic(
  sw: DemoSwitch,
  kind: "mix" | "burst",
  from: number,
  to: number,
  label: string,
): Promise<DemoStats & { peakFlows: number }> {
  let peakFlows = 0;
  await sw.send(kind, from, to, (sent) => {
    const s = sw.stats();
    peakFlows = Math.max(peakFlows, s.flows);
    progress(statusLine(label, sent, to - from, s), false);
  });
  const s = sw.stats();
  progress(statusLine(label, to - from, to - from, s), true);
  return { ...s, peakFlows: Math.max(peakFlows, s.flows) };
}

export async function runDemo(flows: number, burst: number): Promise<void> {
  const started = Date.now();
  // The switch is loaded only when the demo runs, not by every command.
  const { DEMO_RULES, DemoSwitch } = await importOnDemand<typeof import("../daemon/mod.ts")>(
    "../daemon/mod.ts",
  );
  const { setVlogLevel } = await importOnDemand<typeof import("../lib/mod.ts")>("../lib/mod.ts");
  const { upcallShow } = await importOnDemand<typeof import("../upcall/mod.ts")>(
    "../upcall/mod.ts",
  );
  // The story is told here; the switch's own log lines would interleave with it.
  setVlogLevel(undefined, "console", "off");
  printOut("udpif demo: OVS's upcall and revalidation machinery on a built-in example\n");
  const sw = await DemoSwitch.start();
  try {
    heading(1, "The switch: br0 with ports p1..p4 (dummy datapath) and these rules");
    printOut(indent(DEMO_RULES));

    heading(2, `Traffic: ${flows} distinct flows from 10.1.x.x into p1`);
    const first = await traffic(sw, "mix", 0, flows, "first pass ");
    await sw.revalidated();
    const megaflows = sw.megaflows();
    printOut(
      `  ${flows} flows needed ${first.missed} upcalls and left ${megaflows.length} megaflows:` +
        " each covers every flow that the rules cannot tell apart.\n",
    );
    printOut(indent(megaflows.slice(0, 6).join("\n")));
    if (megaflows.length > 6) printOut(`    ... ${megaflows.length - 6} more\n`);
    printOut("  upcall/show:\n" + indent(upcallShow([sw.bridge.udpif])));

    heading(3, "The same traffic again: it stays in the datapath");
    const before = sw.stats();
    const second = await traffic(sw, "mix", 0, flows, "second pass");
    printOut(
      `  ${second.hit - before.hit} datapath hits, ${second.missed - before.missed} new upcalls.\n`,
    );

    heading(4, "A rule changes: port 80 now goes to p4 (ofctl mod-flows)");
    const web = (l: string) => l.includes("tcp(dst=80)");
    printOut("  before: " + (sw.megaflows().find(web) ?? "(none)") + "\n");
    sw.changeWebRule();
    await sw.revalidated();
    printOut("  after:  " + (sw.megaflows().find(web) ?? "(none)") + "\n");
    printOut(
      `  The revalidators re-translated every megaflow and modified this one in place; ${sw.stats().flows} megaflows remain.\n`,
    );

    heading(5, `A burst: flow-limit lowered to ${Math.floor(burst / 4)}, ${burst} new hosts`);
    sw.setFlowLimit(Math.floor(burst / 4));
    const hitsBefore = sw.stats().limitHits;
    const peak = await traffic(sw, "burst", 0, burst, "burst      ");
    await sw.revalidated();
    const after = sw.stats();
    printOut(
      `  ${after.limitHits - hitsBefore} upcalls were refused a datapath flow at the limit` +
        ` (the packets were still forwarded); the datapath peaked at ${peak.peakFlows} flows` +
        ` and the revalidators brought it to ${after.flows} (dynamic limit ${after.limit}).\n`,
    );
    printOut("  upcall/show:\n" + indent(upcallShow([sw.bridge.udpif])));

    heading(6, "Idle flows expire (time/stop, then time/warp past max-idle)");
    const idle = sw.idleOut();
    await sw.revalidated();
    printOut(`  after ${idle} ms without packets: ${sw.stats().flows} megaflows left.\n`);

    heading(7, "Summary");
    const end = sw.stats();
    printOut(
      `  packets: ${end.hit + end.missed} (${end.hit} datapath hits, ${end.missed} upcalls)\n` +
        `  megaflows after the first pass: ${megaflows.length} for ${flows} flows\n` +
        `  flow limit hits: ${end.limitHits}\n` +
        `  time: ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await sw.stop();
  }
}

export const demo: Subcommand = {
  name: "demo",
  register(command: Command, setExit: (code: number) => void): void {
    command
      .description("run a switch in-process on a built-in example and narrate what udpif does")
      .option("--flows <n>", "distinct flows in the traffic", "4000")
      .option("--burst <n>", "new hosts in the flow-limit burst", "4000")
      .addHelpText("after", "\nExample: udpif demo --flows 2000")
      .action(async (o: { flows: string; burst: string }) => {
        const n = (v: string, name: string) => {
          if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 100000) {
            throw new UsageError(`--${name}: "${v}" is not a number from 1 to 100000`);
          }
          return Number(v);
        };
        await runDemo(n(o.flows, "flows"), n(o.burst, "burst"));
        setExit(0);
      });
  },
};
