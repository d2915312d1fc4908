/**
 * OpenFlow over the wire at scale: Debian's ovs-ofctl loading N rules into
 * udpif over br0.mgmt (add-flows: one flow-mod per rule, then a barrier)
 * and dumping them back (flow stats split over many replies), beside
 * `udpif ofctl add-flows` loading the same file over the control socket.
 * Prints one line:
 *
 *   openflow: rules=N ovs_ofctl_add_flows_ms=A ovs_ofctl_dump_flows_ms=D udpif_ofctl_add_flows_ms=U
 */
const N = Number(Deno.env.get("OPENFLOW_BENCH_RULES") ?? "10000");
const root = new URL("..", import.meta.url).pathname;
const UDPIF = `${root}bin/udpif`;
const dir = await Deno.makeTempDir({ prefix: "udpif-openflow-bench-" });
const env = { UDPIF_RUNDIR: dir, UDPIF_CTL: "", OVS_RUNDIR: dir };
const rules = `${dir}/rules.txt`;
await Deno.writeTextFile(
  rules,
  Array.from(
    { length: N },
    (_, i) =>
      `priority=${i % 100},tcp,nw_dst=10.${i >> 16}.${(i >> 8) & 255}.${i & 255},tp_dst=${
        i % 1000
      },actions=output:2`,
  )
    .join("\n") + "\n",
);

async function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return performance.now() - t0;
}

const daemon = new Deno.Command(UDPIF, {
  args: ["start", "--detach", "--port", "p1", "--port", "p2"],
  env,
}).outputSync();
if (!daemon.success) throw new Error(new TextDecoder().decode(daemon.stderr));
try {
  const add = await timed("ovs-ofctl", ["add-flows", "br0", rules]);
  const dump = await timed("ovs-ofctl", ["dump-flows", "br0"]);
  await timed("ovs-ofctl", ["del-flows", "br0"]);
  const viaUnixctl = await timed(UDPIF, ["ofctl", "add-flows", "br0", rules]);
  console.log(
    `openflow: rules=${N} ovs_ofctl_add_flows_ms=${add.toFixed(0)} ` +
      `ovs_ofctl_dump_flows_ms=${dump.toFixed(0)} udpif_ofctl_add_flows_ms=${
        viaUnixctl.toFixed(0)
      }`,
  );
} finally {
  await new Deno.Command(UDPIF, { args: ["appctl", "exit"], env }).output();
  await Deno.remove(dir, { recursive: true });
}
