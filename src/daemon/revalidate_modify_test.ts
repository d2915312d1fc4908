/**
 * A full revalidation through the real translation (BridgeXlate, which
 * revalidators ask to refill one result per translation) that modifies
 * several flows of one dump batch: each datapath flow must end up with
 * its own new actions, not those of the batch's last translation.
 */
import { bytesOf, F, formatOdpActions, getField } from "../flow/mod.ts";
import { FlowSnapshot, snapshotActions } from "../dpif/mod.ts";
import type { DummyNetdev } from "../netdev/mod.ts";
import { tcpFrame } from "../../tests/support/upcall/test_support.ts";
import { pollUntil } from "../../tests/poll.ts";
import { Bridge } from "./bridge.ts";
import { OtherConfig } from "./other_config.ts";
import { parsePortSpecs } from "./port_spec.ts";

/** Datapath in_port -> the flow's actions, as text. */
function actionsByInPort(b: Bridge): Map<number, string> {
  const out = new Map<number, string>();
  const t = b.dp.shared.pmds[0].table, snap = new FlowSnapshot();
  for (let s = 0; s < t.highWater(); s++) {
    if (!t.read(s, snap)) continue;
    out.set(getField(bytesOf(snap.key), F.in_port), formatOdpActions(snapshotActions(snap)));
  }
  return out;
}

Deno.test("a full revalidation that modifies several flows gives each its own new actions", async () => {
  const config = new OtherConfig();
  config.set(["n-revalidator-threads=1", "max-idle=1000000"]);
  const b = await Bridge.create({
    name: "br0",
    datapathType: "dummy",
    ports: parsePortSpecs(["p1", "p2", "p3"], "br0"),
    config,
  });
  try {
    b.loadFlows("priority=0,actions=output:2\n");
    const odp = (name: string) => b.portByName(name)!.odpPort;
    const dev = (name: string) => b.portByName(name)!.netdev as DummyNetdev;
    dev("p1").receive([tcpFrame(1, 2, 1000, 80)]);
    dev("p3").receive([tcpFrame(3, 2, 1000, 80)]);
    // A handler that translated before the rule reached it installed a
    // drop, which revalidation then corrects: wait for the rule's actions.
    const installed = (want: Map<number, string>) => () => {
      const now = actionsByInPort(b);
      return now.size === 2 && [...want].every(([port, actions]) => now.get(port) === actions);
    };
    await pollUntil(
      installed(new Map([[odp("p1"), `${odp("p2")}`], [odp("p3"), `${odp("p2")}`]])),
      "both flows installed with output:2",
    );
    // One table update: the next dump modifies both flows, in one batch.
    b.loadFlows(
      "priority=10,in_port=1,actions=output:3\npriority=10,in_port=3,actions=output:1,output:2\n",
    );
    await pollUntil(
      installed(new Map([[odp("p1"), `${odp("p3")}`], [odp("p3"), `${odp("p1")},${odp("p2")}`]])),
      "both flows modified, each to its own actions",
    );
  } finally {
    await b.destroy();
  }
});
