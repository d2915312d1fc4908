import assert from "node:assert/strict";
import { odpFormatUfid } from "../flow/mod.ts";
import { setVlogFile } from "../lib/mod.ts";
import {
  UKEY_CREATED,
  UKEY_DELETED,
  UKEY_EVICTED,
  UKEY_EVICTING,
  UKEY_INCONSISTENT,
  UKEY_OPERATIONAL,
  UKEY_VISIBLE,
  type UkeyState,
  ukeyTransition,
} from "./ukey_state.ts";
import { UkeyTable } from "./ukey_table.ts";

const STATES: UkeyState[] = [
  UKEY_CREATED,
  UKEY_VISIBLE,
  UKEY_OPERATIONAL,
  UKEY_INCONSISTENT,
  UKEY_EVICTING,
  UKEY_EVICTED,
  UKEY_DELETED,
];

Deno.test("transition_ukey_at's table: which steps are allowed from which state", () => {
  const allowed = new Set([
    "0>1", // CREATED -> VISIBLE: in the umap
    "1>1", // VISIBLE -> VISIBLE: OVS's rule lets VISIBLE go anywhere short of DELETED
    "1>2", // VISIBLE -> OPERATIONAL: the handler installed the flow
    "1>3", // VISIBLE -> INCONSISTENT: OVS's rule again
    "1>4", // VISIBLE -> EVICTING: swept before its flow was dumped
    "1>5", // VISIBLE -> EVICTED: the datapath refused the flow
    "2>3", // OPERATIONAL -> INCONSISTENT: a revalidator's modify failed (cf11766cb)
    "2>4", // OPERATIONAL -> EVICTING
    "3>4", // INCONSISTENT -> EVICTING
    "4>5", // EVICTING -> EVICTED
    "5>6", // EVICTED -> DELETED
  ]);
  for (const src of STATES) {
    for (const dst of STATES) {
      const t = ukeyTransition(src, dst);
      const want = allowed.has(`${src}>${dst}`)
        ? "advance"
        : src === UKEY_OPERATIONAL && dst === UKEY_OPERATIONAL
        ? "unchanged"
        : dst < src
        ? "backwards"
        : "refused";
      assert.equal(t, want, `${src} -> ${dst}`);
    }
  }
});

Deno.test("a refused transition leaves the state and is logged with the ukey's UFID", () => {
  const t = UkeyTable.create(4);
  const ufid = Uint32Array.of(0xb7cb35d9, 0x9d6d4fd9, 0xab671ba7, 0x9f26d75d);
  const s = t.alloc();
  t.init(s, ufid, 0, 1, 1, 0, 1000);
  t.install(s);
  assert.ok(t.transition(s, UKEY_OPERATIONAL));
  const dir = Deno.makeTempDirSync();
  setVlogFile(`${dir}/udpif.log`);
  let skipped: boolean, backwards: boolean;
  try {
    skipped = t.transition(s, UKEY_EVICTED);
    backwards = t.transition(s, UKEY_VISIBLE);
  } finally {
    setVlogFile(undefined);
  }
  const lines = Deno.readTextFileSync(`${dir}/udpif.log`).trimEnd().split("\n");
  Deno.removeSync(dir, { recursive: true });
  assert.equal(skipped, false, "OPERATIONAL may not skip EVICTING");
  assert.equal(backwards, false, "states never go back");
  assert.equal(t.state(s), UKEY_OPERATIONAL);
  const u = odpFormatUfid(ufid);
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /\|ofproto_dpif_upcall\|WARN\|/);
  assert.ok(lines[0].endsWith(`Invalid state transition for ukey ${u}: 2 -> 5`), lines[0]);
  assert.match(lines[1], /\|ofproto_dpif_upcall\|ERR\|/);
  assert.ok(lines[1].endsWith(`Invalid ukey transition 2->1 for ukey ${u}`), lines[1]);
  t.unlock(s);
});
