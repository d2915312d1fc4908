/** `ovs-appctl fdb/show BRIDGE` (mac_learning's table as bridge.c prints it), byte for byte. */
import { formatPort } from "./field_value.ts";
import type { MacLearning } from "./mac_learning.ts";

export function formatFdbShow(ml: MacLearning, nowMs: number): string {
  let out = " port  VLAN  MAC                Age\n";
  for (const e of ml.entries(nowMs)) {
    out += `${formatPort(e.port).padStart(5)}  ${String(e.vlan).padStart(4)}  ${e.mac}  ${
      String(e.age).padStart(3)
    }\n`;
  }
  return out;
}
