/**
 * The datapath action parser and printer (odp_action_parse.ts,
 * odp_action_format.ts; OVS's odp_actions_from_string and
 * format_odp_actions), and the binary form the flow table stores
 * (odp_action_codec.ts). Properties: bad text is refused with an
 * OdpParseError and a one-line message, nothing else; accepted text
 * prints to a text that parses back to actions with the same effect
 * (a masked set's key bits outside its mask print nowhere, in OVS too;
 * an empty clone prints `clone(drop)`, which OVS reads back only written
 * `clone()`) and prints the same again; the actions survive encode then decode; a line OVS printed
 * (the corpus) prints back byte-identical.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  decodeActions,
  encodeActions,
  formatOdpActions,
  maskKey,
  newKey,
  type OdpAction,
  OdpParseError,
  parseOdpActions,
} from "../../../src/flow/mod.ts";
import { mutateText, type Rng, type Target } from "../engine.ts";
import { FUZZ_FIXTURES } from "../corpus.ts";

const NAMES = new Map([["p1", 1], ["p2", 2], ["p3", 3], ["br0", 100]]);
const NUMBERS = new Map([...NAMES].map(([k, v]) => [v, k]));
const ORACLE = new Set(
  Deno.readTextFileSync(new URL("odp_actions/oracle.txt", FUZZ_FIXTURES)).split("\n")
    .filter((l) => l),
);

/**
 * The actions as they act: a masked set's key bits outside its mask do
 * nothing, and OVS, which keeps them, prints only the masked fields.
 */
function effect(acts: readonly OdpAction[]): OdpAction[] {
  return acts.map((x): OdpAction => {
    if (x.type === "clone") return { ...x, actions: effect(x.actions) };
    if (x.type === "check_pkt_len") return { ...x, gt: effect(x.gt), le: effect(x.le) };
    if (x.type !== "set_masked") return x;
    const key = newKey();
    maskKey(key, x.key, x.mask);
    return { ...x, key };
  });
}

function parse(text: string): OdpAction[] | null {
  try {
    return parseOdpActions(text, NAMES);
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    assert.ok(!e.message.includes("\n"), "error message spans lines");
    return null;
  }
}

export function checkOdpActions(text: string): void {
  const acts = parse(text);
  if (acts === null) return;
  const printed = formatOdpActions(acts, NUMBERS);
  const again = parse(printed.replaceAll("clone(drop)", "clone()"));
  assert.ok(again !== null, `printed actions refused: ${printed}`);
  assert.ok(
    isDeepStrictEqual(effect(again), effect(acts)),
    `print changes the actions: ${printed}`,
  );
  assert.equal(formatOdpActions(again, NUMBERS), printed);
  let encoded: Uint8Array | null = null;
  try {
    encoded = encodeActions(acts);
  } catch (e) {
    // A text action longer than the 16-bit payload length is refused by
    // the encoder by name (RangeError), which flow_put reports.
    if (!(e instanceof RangeError && /payload too long/.test(e.message))) throw e;
  }
  if (encoded) {
    assert.ok(
      isDeepStrictEqual(decodeActions(encoded), acts),
      `encode/decode changes: ${printed}`,
    );
  }
  if (ORACLE.has(text) && text !== printed) {
    assert.equal(formatOdpActions(acts), text, "an OVS action list does not print back");
  }
}

export const odpActionsTarget: Target<string> = {
  name: "odp_actions",
  kind: "text",
  mutate: (rng: Rng, corpus: readonly string[]) => mutateText(rng, corpus),
  run: checkOdpActions,
};
