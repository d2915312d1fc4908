/**
 * A test udpif with one handler and one in-process revalidator: rules
 * given to the test translation (by default everything to port 2, and one
 * flow per TCP connection because the highest rule looks at tp_src), and
 * `send(...sports)` to push TCP packets through the handler.
 */
import { Barrier } from "../../../src/lib/mod.ts";
import { Handler } from "../../../src/upcall/handler.ts";
import { RevalidatorThread } from "../../../src/upcall/revalidator_loop.ts";
import { tcpFrame, testUdpif } from "./test_support.ts";

type T = ReturnType<typeof testUdpif>;

export function revalidatorSetup(
  rules: (t: T) => void = (t) => t.xlate.add(0, {}, [{ type: "output", port: 2 }]),
) {
  const t = testUdpif();
  t.xlate.add(100, { tp_src: 9999 }, []);
  rules(t);
  const handler = new Handler(t.ctx, 0);
  const reval = new RevalidatorThread(t.ctx, 0, Barrier.create(1), Barrier.create(1));
  const send = (...sports: number[]) => {
    t.p1.receive(sports.map((s) => tcpFrame(1, 2, s, 80)));
    t.pump();
    while (handler.runOnce() > 0);
  };
  const flows = () => t.dp.getStats().flows;
  return { t, handler, reval, send, flows };
}
