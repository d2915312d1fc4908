/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/** Test helper: changes the seq it is given, from another worker. */
import { Seq } from "../../../src/lib/seq.ts";

self.onmessage = (
  e: MessageEvent<{ buffer: SharedArrayBuffer; index: number }>,
) => {
  new Seq(new Int32Array(e.data.buffer), e.data.index).change();
};
