/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Test helper: a revalidator-like dump thread in its own worker. It joins
 * the dump whose cursor it is given, walks its share of the flow table and
 * posts back the UFIDs it saw (4 words each).
 */
import { FlowDump, newDumpBatch } from "../../../src/dpif/flow_dump.ts";
import { FlowTable } from "../../../src/dpif/flow_table.ts";

self.onmessage = (e: MessageEvent<{ table: SharedArrayBuffer; cursor: SharedArrayBuffer }>) => {
  const dump = FlowDump.attach(new FlowTable(e.data.table), e.data.cursor);
  const t = dump.threadCreate();
  const batch = newDumpBatch();
  const seen: number[] = [];
  for (let n = t.next(batch); n > 0; n = t.next(batch)) {
    for (let i = 0; i < n; i++) seen.push(...batch[i].ufid);
  }
  const out = Uint32Array.from(seen);
  self.postMessage(out, [out.buffer]);
  self.close();
};
